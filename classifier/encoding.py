"""From a raw message to what the model reads: prepare the text, run the rules, lemmatise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from classifier.features import DocLemmas, TextForModel, char_string, lemma_string, meta_tokens, read_lemmas
from classifier.preparation import PreparedText, prepare
from classifier.rule_layer import RuleEngine, rule_tokens, run_rules
from classifier.tokenizing import warm_tokenizer
from triage_rules.hits import RuleHit
from triage_rules.rules import CHUNK_CHARS


@dataclass(frozen=True)
class MessageInput:
    text: str
    channel: str = "email"
    subject: str | None = None
    sender: str | None = None
    sender_name: str | None = None


@dataclass(frozen=True)
class EncodedItem:
    message: MessageInput
    prepared: PreparedText
    hits: list[RuleHit]
    model_input: TextForModel | None  # None when there is nothing to classify
    model_text: str = ""  # exactly what the main lemmas were read from (subject + prepared text)
    # Those lemmas with their spans in model_text, kept to map model features back to the words
    lemmas: DocLemmas | None = None


def _model_text(prepared: PreparedText) -> str:
    if prepared.subject:
        return f"{prepared.subject}\n{prepared.text}"
    return prepared.text


def _splittable(prepared: PreparedText) -> bool:
    """The model reads subject + newline + text, and the rules read the subject and exactly that text
    as it is (no markup to strip, one piece): both can share a subject Doc and a body Doc."""
    return (bool(prepared.subject) and prepared.text == prepared.rules_text and "<" not in prepared.text
            and len(prepared.text) <= CHUNK_CHARS)


def encode(messages: Sequence[MessageInput], *, engine: RuleEngine | None = None) -> list[EncodedItem]:
    """Encode a batch: the spaCy tokenizer runs over the batch, the rules once per message."""
    tokenizer = warm_tokenizer()
    prepared = [prepare(message.text, channel=message.channel, subject=message.subject) for message in messages]
    usable = [index for index, item in enumerate(prepared) if item.unusable is None]
    # A subject's message the rules read as the model does (web forms, most emails) is tokenised
    # as subject and body, once: the rules get both Docs, the model their lemmas end to end.
    split = [index for index in usable if _splittable(prepared[index])]
    whole = [index for index in usable if not _splittable(prepared[index])]
    whole_texts = [_model_text(prepared[index]) for index in whole]
    docs = list(tokenizer.pipe(whole_texts + [prepared[index].subject or "" for index in split]
                               + [prepared[index].text for index in split], batch_size=256))
    whole_docs = dict(zip(whole, docs[:len(whole)], strict=True))
    subject_docs = dict(zip(split, docs[len(whole):len(whole) + len(split)], strict=True))
    body_docs = dict(zip(split, docs[len(whole) + len(split):], strict=True))
    # Where the rules read exactly what the model reads (SMS, calls), they get the same Doc.
    shared = {index: doc for index, text, doc in zip(whole, whole_texts, docs[:len(whole)], strict=True)
              if text == prepared[index].rules_text}
    shared.update(body_docs)
    hits = [
        run_rules(item, channel=message.channel, sender=message.sender, sender_name=message.sender_name,
                  engine=engine, doc=shared.get(index), subject_doc=subject_docs.get(index))
        for index, (message, item) in enumerate(zip(messages, prepared, strict=True))
    ]
    with_agent = [index for index in usable if prepared[index].agent_text]
    agent_docs = dict(
        zip(with_agent, tokenizer.pipe([prepared[index].agent_text for index in with_agent], batch_size=256),
            strict=True)
    )
    inputs: dict[int, TextForModel] = {}
    read: dict[int, tuple[str, DocLemmas]] = {}
    for index in usable:
        text = _model_text(prepared[index])
        if index in whole_docs:
            lemmas = read_lemmas(whole_docs[index])
        else:
            subject = prepared[index].subject or ""
            lemmas = read_lemmas(subject_docs[index]).then(read_lemmas(body_docs[index]), len(subject) + 1)
        read[index] = (text, lemmas)
        agent_doc = agent_docs.get(index)
        inputs[index] = TextForModel(
            lemmas=lemmas.text,
            chars=char_string(text),
            meta=meta_tokens(messages[index].channel, rule_tokens(hits[index])),
            agent_lemmas=lemma_string(agent_doc) if agent_doc is not None else "",
            agent_chars=char_string(prepared[index].agent_text) if agent_doc is not None else "",
        )
    return [
        EncodedItem(message=message, prepared=item, hits=item_hits, model_input=inputs.get(index),
                    model_text=read[index][0] if index in read else "",
                    lemmas=read[index][1] if index in read else None)
        for index, (message, item, item_hits) in enumerate(zip(messages, prepared, hits, strict=True))
    ]
