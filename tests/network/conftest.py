"""Fixtures of the network engine's tests: hand-built snapshots, no database."""

from __future__ import annotations

import networkx as nx
import pytest

from referral.network.graph import build_graph
from referral.network.snapshot import NationalSnapshot, NetworkSnapshot
from tests.network import samples


@pytest.fixture
def territory() -> NetworkSnapshot:
    return samples.small_territory()


@pytest.fixture
def graph(territory: NetworkSnapshot) -> nx.DiGraph:
    return build_graph(territory)


@pytest.fixture
def bridge() -> NetworkSnapshot:
    return samples.bridge_territory()


@pytest.fixture
def national() -> NationalSnapshot:
    return samples.national()
