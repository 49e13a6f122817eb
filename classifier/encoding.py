"""From a raw message to what the model reads: prepare the text, run the rules, lemmatise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from classifier.features import DocLemmas, TextForModel, char_string, lemma_string, meta_tokens, read_lemmas
from classifier.preparation import PreparedText, prepare
from classifier.rule_layer import RuleEngine, rule_tokens, run_rules
from triage_rules.hits import RuleHit
from triage_rules.nlp import get_nlp


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


def encode(messages: Sequence[MessageInput], *, engine: RuleEngine | None = None) -> list[EncodedItem]:
    """Encode a batch: the spaCy tokenizer runs over the batch, the rules once per message."""
    nlp = get_nlp()
    tokenizer: Any = nlp.tokenizer
    prepared = [prepare(message.text, channel=message.channel, subject=message.subject) for message in messages]
    usable = [index for index, item in enumerate(prepared) if item.unusable is None]
    main_texts = [_model_text(prepared[index]) for index in usable]
    main_docs = list(tokenizer.pipe(main_texts, batch_size=256))
    # Where the rules read exactly what the model reads (SMS, calls), they get the same Doc.
    shared = {index: doc for index, text, doc in zip(usable, main_texts, main_docs, strict=True)
              if text == prepared[index].rules_text}
    hits = [
        run_rules(item, channel=message.channel, sender=message.sender, sender_name=message.sender_name,
                  engine=engine, doc=shared.get(index))
        for index, (message, item) in enumerate(zip(messages, prepared, strict=True))
    ]
    with_agent = [index for index in usable if prepared[index].agent_text]
    agent_docs = dict(
        zip(with_agent, tokenizer.pipe([prepared[index].agent_text for index in with_agent], batch_size=256),
            strict=True)
    )
    inputs: dict[int, TextForModel] = {}
    read: dict[int, tuple[str, DocLemmas]] = {}
    for index, text, doc in zip(usable, main_texts, main_docs, strict=True):
        lemmas = read[index] = (text, read_lemmas(doc))
        agent_doc = agent_docs.get(index)
        inputs[index] = TextForModel(
            lemmas=lemmas[1].text,
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
