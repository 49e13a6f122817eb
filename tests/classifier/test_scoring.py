"""The fast scorer and the fast vectoriser give scikit-learn's own answers."""

from __future__ import annotations

import numpy as np

from classifier.classifier import Classifier
from classifier.encoding import MessageInput, encode

MESSAGES = [
    MessageInput("The boiler has broken again and nobody came on Tuesday as promised", "email", "Boiler"),
    MessageInput("thank u so much to the plumber he was brill", "sms"),
    MessageInput("Agent: how can I help\nCaller: how do I apply for a parking permit", "call_transcript"),
    MessageInput("You charged me £85 for a fob I never lost. Cancel it.", "web_form"),
    MessageInput("Could you put a bench by the bus stop?", "web_form"),
]


def test_fast_features_equal_sklearn_transform(small_estimator_classifier: Classifier) -> None:
    builder = small_estimator_classifier.model.builder
    inputs = [item.model_input for item in encode(MESSAGES) if item.model_input is not None]
    fast = builder._vectorize("char", builder.char, [item.chars for item in inputs])  # type: ignore[arg-type]
    reference = builder.char.transform([item.chars for item in inputs])  # type: ignore[union-attr]
    assert np.allclose(fast.toarray(), reference.toarray(), atol=1e-6)
    fast_words = builder._vectorize("word", builder.word, [item.lemmas for item in inputs])  # type: ignore[arg-type]
    assert np.allclose(fast_words.toarray(), builder.word.transform([i.lemmas for i in inputs]).toarray(),  # type: ignore[union-attr]
                       atol=1e-6)


def test_fast_scores_equal_sklearn_predict_proba(small_estimator_classifier: Classifier) -> None:
    model = small_estimator_classifier.model
    features = model.features([item.model_input for item in encode(MESSAGES)])  # type: ignore[misc]
    fast = model.predict(features)
    reference = model.predict_with_sklearn(features)
    assert np.allclose(fast.type_probabilities, reference.type_probabilities, atol=1e-5)
    assert np.allclose(fast.category_probabilities, reference.category_probabilities, atol=1e-5)
    assert fast.flag_probabilities.keys() == reference.flag_probabilities.keys()
    for flag, values in fast.flag_probabilities.items():
        assert np.allclose(values, reference.flag_probabilities[flag], atol=1e-5)


def test_the_scorer_holds_the_weights_once_and_sklearn_still_agrees(small_estimator_classifier: Classifier) -> None:
    from sklearn.calibration import CalibratedClassifierCV

    model = small_estimator_classifier.model
    matrix = model.scorer()._matrix
    estimators = ([fold.estimator for fold in model.type_classifier.calibrated_classifiers_]
                  if isinstance(model.type_classifier, CalibratedClassifierCV) else [model.type_classifier])
    estimators += list(model.flag_classifiers.values())
    assert estimators
    for estimator in estimators:
        assert np.shares_memory(estimator.coef_, matrix)
    test_fast_scores_equal_sklearn_predict_proba(small_estimator_classifier)
