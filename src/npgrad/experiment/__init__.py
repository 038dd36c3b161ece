"""The founding experiment: an MNIST autoencoder trained with a native and a NumPy loss.

It uses npgrad like any user would; nothing in the library imports it.
"""
