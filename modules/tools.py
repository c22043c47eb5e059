"""Tool calls: how a language region decides on a call and writes its arguments under a schema.

A subtask whose `Decoding` lists tools is answered in two decodes. First the choice (skipped
when the client named the tool): a JSON object ``{"tool": NAME}`` under a schema that admits
only the tools' names (and ``"none"`` where the client lets the model answer in words). Then
either the answer in words, or the call's arguments: the chat continued from
``{"tool": NAME, "arguments": `` under the tool's own parameters schema, so they always parse.
The output stream is that choice, then the words or the arguments; `ToolCallReader` splits
it again for the turn and the server (a named tool's choice is written by Cortex, not the
model, and counted like an answer's opening).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from modules.engines import Message
from modules.errors import BadRequestError

NO_TOOL = "none"
TOOLS_PROMPT = (
    "You can call these tools:\n{tools}\n"
    "Choose the tool that answers the user's request{otherwise}. Reply in JSON."
)
ANY_OBJECT: dict[str, Any] = {"type": "object"}


def tool_names(tools: tuple[dict[str, Any], ...]) -> list[str]:
    return [str(tool["name"]) for tool in tools]


def parameters(tools: tuple[dict[str, Any], ...], name: str) -> dict[str, Any]:
    """The JSON schema of a tool's arguments (any object where the tool gives none)."""
    for tool in tools:
        if tool["name"] == name:
            schema = tool.get("parameters") or ANY_OBJECT
            return dict(schema) if isinstance(schema, dict) else ANY_OBJECT
    raise BadRequestError(f"no tool named {name!r}; the tools: {', '.join(tool_names(tools))}")


def choice_schema(tools: tuple[dict[str, Any], ...], may_answer: bool) -> dict[str, Any]:
    """The schema of the choice: one tool's name, or ``none`` when the model may answer."""
    names = tool_names(tools) + ([NO_TOOL] if may_answer else [])
    return {
        "type": "object",
        "properties": {"tool": {"enum": names}},
        "required": ["tool"],
        "additionalProperties": False,
    }


def tools_chat(
    chat: list[Message], tools: tuple[dict[str, Any], ...], may_answer: bool
) -> list[Message]:
    """`chat` told which tools there are, in its system message."""
    listed = "\n".join(
        f"- {tool['name']}: {tool.get('description') or ''} "
        f"Arguments: {json.dumps(tool.get('parameters') or ANY_OBJECT)}"
        for tool in tools
    )
    otherwise = f', or "{NO_TOOL}" to answer in words' if may_answer else ""
    prompt = TOOLS_PROMPT.format(tools=listed, otherwise=otherwise)
    system = [m for m in chat if m["role"] == "system"]
    rest = [m for m in chat if m["role"] != "system"]
    text = "\n\n".join([*(m["content"] for m in system), prompt])
    return [{"role": "system", "content": text}, *rest]


def choice_text(name: str) -> str:
    """The choice object as the output stream carries it."""
    return json.dumps({"tool": name})


def arguments_start(name: str) -> str:
    """The assistant text the arguments continue: the call object up to its arguments."""
    return f'{{"tool": {json.dumps(name)}, "arguments": '


@dataclass
class ToolCallReader:
    """Splits a tools subtask's output stream: the choice, then words or arguments.

    Feed it each token's text; `feed` returns the text that is the answer's words (none for a
    call). Once the stream ends, `call` is the tool's name and `arguments` its JSON text, or
    `call` is None when the model answered in words.
    """

    call: str | None = None
    arguments: str = ""
    decided: bool = False
    _head: str = field(default="", repr=False)

    def feed(self, text: str) -> str:
        """Takes the next text of the stream; returns what of it is the answer's words."""
        if self.decided:
            if self.call is None:
                return text
            self.arguments += text
            return ""
        self._head += text
        stripped = self._head.lstrip()
        try:
            choice, end = json.JSONDecoder().raw_decode(stripped)
        except json.JSONDecodeError:
            return ""
        self.decided = True
        name = choice.get("tool") if isinstance(choice, dict) else None
        self.call = None if name in (None, NO_TOOL) else str(name)
        return self.feed(stripped[end:]) if stripped[end:] else ""
