"""Tests of rules over a Keras object's settings (graders.rules): lesson 09's rules over
real EarlyStopping and ModelCheckpoint callbacks, and lesson 10's rules over the ranges
of real Random* layers. No model is built: a callback's or a layer's settings are read
as Keras keeps them."""

from __future__ import annotations

import keras
import pytest
from keras import layers

from graders.augmentation_block import range_problems
from graders.lesson09 import CHECKPOINT, EARLY_STOPPING, NOT_THE_BEST_EPOCH, CheckpointSettings
from graders.lesson10 import AUGMENTATION
from graders.rules import Rule, Rules, broken_messages, first_instance

pytestmark = pytest.mark.unit


def _stopper(**settings) -> keras.callbacks.EarlyStopping:
    return keras.callbacks.EarlyStopping(
        **{"monitor": "val_loss", "patience": 2, "restore_best_weights": True, **settings}
    )


def test_the_first_broken_rule_decides_and_the_others_are_not_read():
    """Rules in order: does the first broken one give the message and hint, so that a
    later rule that could not read the subject (None) is never asked?"""
    rules = Rules(
        rules=(
            Rule(lambda s: s is None, "none found", "Add one."),
            Rule(lambda s: s.patience < 1, lambda s: f"patience {s.patience}"),
        ),
        passed="fine",
    )
    assert (rules(None).message, rules(None).hint) == ("none found", "Add one.")
    assert rules(_stopper(patience=0)).message == "patience 0"
    assert rules(_stopper()).passed and rules(_stopper()).message == "fine"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"monitor": "loss"},
            "the early stopping watches 'loss', expected a validation quantity ('val_loss' "
            "or 'val_accuracy')",
        ),
        (
            {"restore_best_weights": False},
            "the early stopping has restore_best_weights=False: the model keeps the weights "
            "of its last epoch, not those of the best one",
        ),
        ({"patience": "2"}, "the early stopping's patience is '2', expected a whole number"),
        ({"patience": 0}, "the early stopping has patience=0: it stops at the first epoch"),
        ({}, "EarlyStopping on 'val_loss', patience 2, best weights restored"),
    ],
)
def test_each_setting_of_the_early_stopping_is_named(settings, message):
    """Does a rule over a real EarlyStopping's settings name the one that is wrong?"""
    outcome = EARLY_STOPPING(_stopper(**settings))
    assert outcome.passed == (not settings)
    assert outcome.message.startswith(message), outcome.message


def test_the_early_stopping_says_why_what_builds_on_it_is_not_checked():
    """Does the early stopping's withheld words depend on whether it restores the best
    weights, whichever rule it broke?"""
    assert EARLY_STOPPING(None).withheld == NOT_THE_BEST_EPOCH[False]
    assert EARLY_STOPPING(_stopper(patience=0)).withheld == NOT_THE_BEST_EPOCH[True]
    assert (
        EARLY_STOPPING(_stopper(restore_best_weights=False)).withheld == NOT_THE_BEST_EPOCH[False]
    )


def test_a_checkpoint_on_another_quantity_than_the_early_stopping_is_named(tmp_path):
    """A rule over two callbacks: a checkpoint that watches val_accuracy beside an early
    stopping on val_loss."""
    checkpoint = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "best.keras"), monitor="val_accuracy", save_best_only=True
    )
    outcome = CHECKPOINT(CheckpointSettings(checkpoint, _stopper()))
    assert (outcome.message, outcome.hint) == (
        "the checkpoint watches 'val_accuracy' but the early stopping 'val_loss': they may "
        "choose different best epochs",
        "Give both monitor='val_loss'.",
    )
    assert outcome.withheld == (
        "not checked: the checkpoint is not set up as asked (see 'checkpoint')"
    )


def test_a_checkpoint_set_up_as_asked_goes_on_to_its_file(tmp_path):
    """When every setting holds, does the check go on to the file, whose own rule (it does
    not exist yet) gives its own withheld words?"""
    checkpoint = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "best.keras"), monitor="val_loss", save_best_only=True
    )
    outcome = CHECKPOINT(CheckpointSettings(checkpoint, _stopper()))
    assert outcome.message == (
        f"the checkpoint's file {tmp_path / 'best.keras'} does not exist: did fit run with "
        "these callbacks?"
    )
    assert outcome.withheld == "not checked: no checkpoint file"


def test_range_rules_read_a_layer_s_settings_in_every_spelling():
    """Do the range rules accept 0.1 and (-0.1, 0.1) alike, name a wrong range in words,
    and add the half turn's reason to a rotation that far?"""
    good = [layers.RandomRotation((-0.05, 0.05)), layers.RandomZoom(0.1)]
    assert range_problems(AUGMENTATION, good) == []
    wrong = [layers.RandomRotation(0.5), layers.RandomTranslation(0.1, 0.3)]
    assert range_problems(AUGMENTATION, wrong) == [
        "RandomRotation's factor is (-0.5, 0.5), a turn of -180° to +180°, expected (-0.05, "
        "0.05), a turn of -18° to +18°: turned that far, a 6 reads as a 9",
        "RandomTranslation's width_factor is (-0.3, 0.3), -30% to +30% of the width, "
        "expected (-0.1, 0.1), -10% to +10% of the width",
    ]


def test_broken_messages_and_first_instance():
    rules = (Rule(lambda n: n > 1, "above 1"), Rule(lambda n: n > 2, "above 2"))
    assert broken_messages(rules, 3) == ["above 1", "above 2"]
    stopper = _stopper()
    assert first_instance(keras.callbacks.EarlyStopping, [object(), stopper]) is stopper
    assert first_instance(keras.callbacks.EarlyStopping, stopper) is stopper
    assert first_instance(keras.callbacks.ModelCheckpoint, (stopper,)) is None
