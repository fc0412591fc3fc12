"""The synthesised audio of unit 11: deterministic, in range, and what its name says."""

import numpy as np
import pytest

from cnn_course.data import AUDIO_KINDS, PENTATONIC, synth_audio


@pytest.mark.parametrize("kind", AUDIO_KINDS)
def test_sounds_are_deterministic_and_in_range(kind):
    a, b = (
        synth_audio(kind, seconds=1.0, sample_rate=4000, seed=3),
        synth_audio(kind, seconds=1.0, sample_rate=4000, seed=3),
    )
    assert a.shape == (4000,) and a.dtype == np.float32 and np.array_equal(a, b)
    assert 0.9 < np.abs(a).max() <= 0.95 + 1e-6
    if kind != "chirp":  # the chirp's pitch does not depend on the seed, only its phase
        assert not np.array_equal(a, synth_audio(kind, seconds=1.0, sample_rate=4000, seed=4))


def dominant_frequency(wave, sample_rate):
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    return np.fft.rfftfreq(len(wave), 1 / sample_rate)[spectrum.argmax()]


def test_notes_are_pentatonic_and_chirp_rises():
    notes = synth_audio("notes", seconds=1.0, sample_rate=8000)
    for start in range(0, 8000, 2000):  # each quarter second is one note
        f = dominant_frequency(notes[start : start + 2000], 8000)
        assert min(abs(f - p) for p in PENTATONIC) < 8
    chirp = synth_audio("chirp", seconds=2.0, sample_rate=8000)
    assert dominant_frequency(chirp[:1600], 8000) < dominant_frequency(chirp[-1600:], 8000)


def test_pluck_is_periodic_like_a_string():
    pluck = synth_audio("pluck", seconds=0.5, sample_rate=8000)
    f = dominant_frequency(pluck[: len(pluck) // 2], 8000)
    assert min(abs(f - p) / p for p in PENTATONIC) < 0.03  # the delay line's length is a whole number of samples


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(kind="noise"), "unknown sound"),
        (dict(seconds=0), "seconds > 0"),
        (dict(sample_rate=100), "sample_rate >= 1000"),
    ],
)
def test_bad_arguments_get_a_sentence(kwargs, message):
    with pytest.raises(ValueError, match=message):
        synth_audio(**kwargs)
