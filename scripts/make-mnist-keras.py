"""Trains an MNIST CNN in Keras, for the fine-tuning check of convkit's
importers: the saved model is imported by `convkit train --init`, frozen up to
its Flatten, and its head retrained on Fashion-MNIST. HEAD=convnet gives
Keras's own MNIST convnet example (keras.io/examples/vision/mnist_convnet:
Flatten, Dropout, Dense 10); the default, HEAD=mlp, puts a hidden Dense of
128 in the head, as TensorFlow.js's mnist-node model has one of 512. Keras is not a convkit dependency; run with the
Python of a tensorflow-cpu venv (the local pip index serves it):

    ../tf-venv/bin/python scripts/make-mnist-keras.py ../shared/data/mnist ../mnist_cnn.h5
"""
import gzip
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
import numpy as np
import keras
from keras import layers

data, out = sys.argv[1], sys.argv[2]


def idx(name):
    with gzip.open(os.path.join(data, name)) as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


x_train = idx("train-images-idx3-ubyte.gz").astype("float32")[..., None] / 255
y_train = idx("train-labels-idx1-ubyte.gz")
x_test = idx("t10k-images-idx3-ubyte.gz").astype("float32")[..., None] / 255
y_test = idx("t10k-labels-idx1-ubyte.gz")
keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
    layers.MaxPooling2D(pool_size=(2, 2)),
    layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
    layers.MaxPooling2D(pool_size=(2, 2)),
    layers.Flatten(),
    layers.Dropout(0.5),
    *([layers.Dense(128, activation="relu")] if os.environ.get("HEAD", "mlp") == "mlp" else []),
    layers.Dense(10, activation="softmax"),
], name="mnist_cnn")
model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=128, epochs=int(os.environ.get("EPOCHS", "3")), verbose=2)
print("Keras test accuracy on MNIST:", model.evaluate(x_test, y_test, verbose=0)[1])
model.save(out)
print("wrote", out)
