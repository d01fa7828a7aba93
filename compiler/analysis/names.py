"""The names under which a function's arguments and results are read and written.

An argument or result is named by its `rnn.name` argument/result attribute when present
(the ONNX importer sets it to the graph's input/output name, which need not be a valid SSA
name), else by the SSA name in the text (`%X` -> `X`), else by its position.
"""

from __future__ import annotations

from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, StringAttr

NAME_ATTR = "rnn.name"


def _attr_name(attrs: ArrayAttr[DictionaryAttr] | None, index: int) -> str | None:
    if attrs is None or index >= len(attrs.data):
        return None
    name = attrs.data[index].data.get(NAME_ATTR)
    return name.data if isinstance(name, StringAttr) else None


def argument_names(function: func.FuncOp) -> list[str]:
    names = []
    for i, arg in enumerate(function.body.block.args):
        names.append(_attr_name(function.arg_attrs, i) or arg.name_hint or f"arg{i}")
    return names


def result_names(function: func.FuncOp) -> list[str]:
    returned = function.body.block.last_op
    hints = [v.name_hint for v in returned.operands] if returned is not None else []
    names = []
    for i in range(len(function.function_type.outputs.data)):
        hint = hints[i] if i < len(hints) else None
        names.append(_attr_name(function.res_attrs, i) or hint or f"result{i}")
    return names
