"""Loads convkit's Keras exports in Keras (see make.mjs); prints the largest difference from convkit's predictions."""
import os, sys, json, numpy as np
d = sys.argv[1]
os.environ["TF_CPP_MIN_LOG_LEVEL"]="3"; os.environ["TF_ENABLE_ONEDNN_OPTS"]="0"
import keras
exp = json.load(open(os.path.join(d, 'expected.json')))
for name in ['seq', 'res']:
    m = keras.models.load_model(os.path.join(d, f'{name}.h5'))
    r = exp[name]
    y = m.predict(np.array(r['x'], 'float32').reshape(3, *r['shape']), verbose=0).ravel()
    print(name, 'keras max error', float(np.abs(y - np.array(r['y'])).max()))
