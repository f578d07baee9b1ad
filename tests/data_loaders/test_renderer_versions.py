"""A renderer that changes what it draws must bump its cache version, or old caches would
be read as if they were the new data."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from data_loaders import hand_signs, happy_faces, traffic_signs

pytestmark = pytest.mark.unit

# (dataset, cache version) -> sha256 prefix of 4 images rendered from SeedSequence(7).
# When a renderer changes on purpose: bump its version in EmbeddedDataset(...), then put
# the new version and fingerprint here.
FINGERPRINTS = {
    ("traffic_signs", 3): "47103a8304212daf",
    ("happy_faces", 4): "213c01200b376e48",
    ("hand_signs", 5): "87610be63126de96",
}


@pytest.mark.parametrize(
    "module", [traffic_signs, happy_faces, hand_signs], ids=lambda m: m.__name__.rsplit(".", 1)[-1]
)
def test_renderer_output_matches_its_cache_version(module):
    """Does each renderer still draw what its cache version promises?"""
    embedded = module._EMBEDDED
    images = embedded.render(np.arange(4) % embedded.n_classes, np.random.SeedSequence(7))
    fingerprint = hashlib.sha256(images.tobytes()).hexdigest()[:16]
    key = (embedded.name, embedded.version)
    assert key in FINGERPRINTS, f"no fingerprint for {key}: add {fingerprint!r}"
    assert fingerprint == FINGERPRINTS[key], (
        f"{embedded.name} now renders different images ({fingerprint}) under cache version "
        f"{embedded.version}: bump the version so stale caches are not read, and record the "
        "new fingerprint here."
    )
