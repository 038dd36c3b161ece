"""The reference autoencoder: 784 -> 3 -> 784."""

from __future__ import annotations

from torch import nn


class Autoencoder(nn.Module):
    """The founding experiment's model; attribute names match the reference.

    >>> import torch
    >>> Autoencoder()(torch.zeros(2, 784)).shape
    torch.Size([2, 784])
    """

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(784, 128),
            nn.ReLU(),
            nn.Linear(128, 64),
            nn.ReLU(),
            nn.Linear(64, 12),
            nn.ReLU(),
            nn.Linear(12, 3),
        )
        self.decoder = nn.Sequential(
            nn.Linear(3, 12),
            nn.ReLU(),
            nn.Linear(12, 64),
            nn.ReLU(),
            nn.Linear(64, 128),
            nn.ReLU(),
            nn.Linear(128, 784),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))
