"""Variant seeds: HMAC-SHA256 over the quiz, student, exercise and generator version."""

import hashlib
import hmac

import pytest

from grader.seeding import new_secret, variant_seed


def test_seed_is_the_documented_hmac() -> None:
    secret = b"k" * 32
    message = b"quiz-1\x1falice\x1fcnn_conv_output_size\x1f3"
    expected = int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest()[:16], "big")
    assert variant_seed(secret, "quiz-1", "alice", "cnn_conv_output_size", 3) == expected


def test_every_field_changes_the_seed() -> None:
    base = (b"s" * 32, "q", "alice", "ex", 1)
    seeds = {
        variant_seed(*base),
        variant_seed(b"t" * 32, "q", "alice", "ex", 1),
        variant_seed(b"s" * 32, "q2", "alice", "ex", 1),
        variant_seed(b"s" * 32, "q", "bob", "ex", 1),
        variant_seed(b"s" * 32, "q", "alice", "ex2", 1),
        variant_seed(b"s" * 32, "q", "alice", "ex", 2),
    }
    assert len(seeds) == 6


def test_field_boundaries_cannot_be_shifted() -> None:
    secret = b"s" * 32
    assert variant_seed(secret, "ab", "c", "e", 1) != variant_seed(secret, "a", "bc", "e", 1)
    with pytest.raises(ValueError):
        variant_seed(secret, "a\x1fb", "c", "e", 1)


def test_new_secrets_are_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert len(first) == 32 and first != second
