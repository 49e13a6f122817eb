"""Reading the data format, the project-wide split and the corpus hash."""

from __future__ import annotations

import hashlib

import pytest

from classifier.data import LabelledExample, corpus_hash, load_examples, split_examples, split_of
from classifier.errors import DataFormatError


def test_reads_every_field_and_ignores_unknown_ones(write_jsonl, make_record) -> None:
    path = write_jsonl([make_record(id="a", categories=["delay"], flags=["third_party"], type="complaint",
                               queue="complaints", extra_field="ignored", priority=3)])
    [example] = load_examples([path])
    assert example.id == "a"
    assert example.categories == ("delay",)
    assert example.flags == ("third_party",)
    assert example.queue == "complaints"
    assert example.weight == 1.0


def test_blank_lines_are_skipped(write_jsonl, make_record) -> None:
    path = write_jsonl([make_record(id="a"), "", "   ", make_record(id="b")])
    assert [example.id for example in load_examples([path])] == ["a", "b"]


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        ("{not json", "line 2"),
        ("[1, 2]", "line 2: a line must be one JSON object"),
        ('{"id": "x", "body": "hi"}', "line 2: missing or non-text field(s): type"),
        ('{"id": "x", "body": "hi", "type": "enquiry", "flags": "urgent_safety"}', "flags"),
    ],
)
def test_a_malformed_line_is_a_clear_error_naming_the_line(write_jsonl, make_record, bad_line: str, expected: str) -> None:
    path = write_jsonl([make_record(id="ok"), bad_line])
    with pytest.raises(DataFormatError) as error:
        load_examples([path])
    assert expected in str(error.value)
    assert str(path) in str(error.value)


def test_a_missing_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(DataFormatError, match="no such file"):
        load_examples([tmp_path / "missing.jsonl"])


def test_duplicate_ids_keep_the_first(write_jsonl, make_record) -> None:
    path = write_jsonl([make_record(id="a", body="first"), make_record(id="a", body="second")])
    assert [example.body for example in load_examples([path])] == ["first"]


def test_split_follows_the_project_rule() -> None:
    ids = [f"item-{number}" for number in range(200)]
    for item_id in ids:
        expected = "test" if int(hashlib.sha1(item_id.encode()).hexdigest(), 16) % 5 == 0 else "train"
        assert split_of(item_id) == expected
    examples = [LabelledExample(id=item_id, body="x", type="enquiry") for item_id in ids]
    train, test = split_examples(examples)
    assert len(train) + len(test) == len(ids)
    assert {example.id for example in test} == {i for i in ids if split_of(i) == "test"}
    assert 0.1 < len(test) / len(ids) < 0.3


def test_corpus_hash_depends_on_content_not_order() -> None:
    first = LabelledExample(id="a", body="one", type="enquiry")
    second = LabelledExample(id="b", body="two", type="complaint", categories=("delay",))
    assert corpus_hash([first, second]) == corpus_hash([second, first])
    changed = LabelledExample(id="b", body="two", type="complaint", categories=("cost",))
    assert corpus_hash([first, changed]) != corpus_hash([first, second])


def test_lists_from_the_database_become_tuples() -> None:
    example = LabelledExample(id="c", body="x", type="complaint", categories=["delay"], flags=["abusive"],  # type: ignore[arg-type]
                              weight=3.0)
    assert example.categories == ("delay",)
    assert example.flags == ("abusive",)


def test_a_record_pinned_to_train_stays_in_train_whatever_its_hash(write_jsonl, make_record) -> None:
    test_id = next(f"item-{n}" for n in range(100) if split_of(f"item-{n}") == "test")
    path = write_jsonl([make_record(id=test_id, split="train"), make_record(id=f"{test_id}-x"),
                        make_record(id="plain")])
    pinned, *_ = examples = load_examples([path])
    assert pinned.split == "train" and split_of(test_id, pinned.split) == "train"
    train, test = split_examples(examples)
    assert pinned in train and pinned not in test
    unpinned = LabelledExample(id=test_id, body="x", type="enquiry")
    assert split_examples([unpinned]) == ([], [unpinned])


def test_only_train_can_be_pinned(write_jsonl, make_record) -> None:
    path = write_jsonl([make_record(id="a", split="test")])
    with pytest.raises(DataFormatError, match="split"):
        load_examples([path])


def test_pinning_changes_the_corpus_hash_only_of_pinned_items() -> None:
    plain = LabelledExample(id="a", body="one", type="enquiry")
    assert corpus_hash([plain]) == corpus_hash([LabelledExample(id="a", body="one", type="enquiry", split=None)])
    assert corpus_hash([plain]) != corpus_hash([LabelledExample(id="a", body="one", type="enquiry", split="train")])


def test_the_seed_test_split_stays_the_702_items_every_earlier_figure_was_measured_on() -> None:
    # Data added later (data/seed/blind_writers_*.jsonl) is pinned to TRAIN: TEST must not move.
    from classifier.data import seed_files

    examples = load_examples(seed_files())
    _, test = split_examples(examples)
    assert len(test) == 702
    added = [example for example in examples if example.id.startswith("bw")]  # bw1- … bw4-, bw6j-, bw6n-, bw7-
    assert len(added) == 870 and all(example.split == "train" for example in added)
