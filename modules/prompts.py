"""The chats a language region answers: a subtask's (`answer_chat`), and the start every part
of a request shares (`shared_chat`), which one replica may prefill for the others
(`modules.handoff`)."""

from __future__ import annotations

from bus.protocol import Subtask
from modules.engines import Message

SYSTEM_PROMPT = "You are a helpful assistant. Answer briefly and accurately."


def answer_chat(subtask: Subtask, start: str = "") -> list[Message]:
    """The chat a delegate answers for one subtask: the system prompt (the subtask's, else
    `SYSTEM_PROMPT`); the exchanges it works on (the steps it depends on, or a conversation,
    asked and answered); the request's shared context, then the instruction, with other
    regions' notes; then `start`, if given, as the answer's start."""
    chat: list[Message] = [{"role": "system", "content": subtask.system or SYSTEM_PROMPT}]
    for asked, answered in subtask.earlier:
        chat += [{"role": "user", "content": asked}, {"role": "assistant", "content": answered}]
    asked = "\n\n".join(text for text in (subtask.context, subtask.instruction) if text)
    chat.append({"role": "user", "content": with_notes(asked, subtask.inputs)})
    return chat + [{"role": "assistant", "content": start}] if start else chat


def shared_chat(subtask: Subtask) -> list[Message]:
    """The start of `answer_chat` every part of a request shares: the system prompt, the
    exchanges they build on, the request's context."""
    chat = answer_chat(subtask.model_copy(update={"instruction": "", "inputs": {}}))
    chat[-1] = {"role": "user", "content": subtask.context}
    return chat


def with_notes(instruction: str, notes: dict[str, str]) -> str:
    """The instruction after what other regions found (a picture's description) and the
    conversation's earlier turns, as plain text: "Notes:" and bullets led the embedded
    model to repeat the notes instead of answering."""
    if not notes:
        return instruction
    told = "\n".join(text.strip() for text in notes.values())
    return f"{told}\n\n{instruction}"
