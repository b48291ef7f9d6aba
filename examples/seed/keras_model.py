"""The Keras model from the founding question (stackoverflow.com/questions/60079783).

Run it to print Keras's summary: python examples/seed/keras_model.py
"""

from keras import Input, Model
from keras.layers import BatchNormalization, Conv2D, Dense, Flatten

IMG_SIZE = 64


def build_model():
    inputs = Input(shape=(IMG_SIZE, IMG_SIZE, 1))  # channels last: (N, H, W, C)
    model = Conv2D(filters=32, kernel_size=(3, 3), padding="same", activation="relu")(inputs)
    model = BatchNormalization(momentum=0.15, axis=-1)(model)
    model = Flatten()(model)
    dense = Dense(100, activation="relu")(model)
    head_root = Dense(10, activation="softmax")(dense)
    return Model(inputs, head_root)


if __name__ == "__main__":
    build_model().summary()
