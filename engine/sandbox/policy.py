"""The sandbox's compile step: RestrictedPython's rules plus the oaflow policy (``SandboxTransformer``)
that rewrites risky operators, loops, f-strings and container builds into guarded calls, and a cached
``compile_sandboxed`` / ``check_source`` used at run time and at deploy time."""

from __future__ import annotations

import ast
import functools
import types
import warnings

from RestrictedPython import compile_restricted
from RestrictedPython.transformer import RestrictingNodeTransformer, copy_locations

from .limits import FILENAME, FORBIDDEN_CALLS, MAX_SOURCE_CHARS, SandboxViolation


def _call(name: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    node = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    copy_locations(node, like)
    return node


_BINOP_GUARDS = {ast.Mult: "_mul_", ast.Pow: "_pow_", ast.Add: "_add_", ast.LShift: "_lshift_",
                 ast.Mod: "_mod_", ast.FloorDiv: "_floordiv_"}
_SET_OPS = (ast.BitOr, ast.BitAnd, ast.BitXor, ast.Sub)
_IOP = {ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/=", ast.FloorDiv: "//=", ast.Mod: "%=",
        ast.Pow: "**=", ast.LShift: "<<=", ast.RShift: ">>=", ast.BitOr: "|=", ast.BitAnd: "&=",
        ast.BitXor: "^=", ast.MatMult: "@="}


class SandboxTransformer(RestrictingNodeTransformer):
    """RestrictedPython policy plus size/time guards (see module docstring)."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        if isinstance(node.op, _SET_OPS):  # dict | dict, set - set...: a new container of references
            return _call("_weighed_", [node], node)
        if guard is None:
            return node
        return _call(guard, [node.left, node.right], node)

    # Every container built from references (a display, a comprehension) and every operand of a
    # comparison goes through _weighed_ (see engine.sandbox.weight): a value whose leaves, counting
    # shared references again, exceed the cap is refused before C code hashes, compares or prints it.

    def _weighed(self, node: ast.expr) -> ast.AST:
        new = self.node_contents_visit(node)
        if isinstance(getattr(node, "ctx", None), ast.Store | ast.Del):
            return new  # an unpacking or deletion target, not a value
        return _call("_weighed_", [new], node)

    def visit_List(self, node: ast.List) -> ast.AST:
        return self._weighed(node)

    def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
        return self._weighed(node)

    def visit_Set(self, node: ast.Set) -> ast.AST:
        return self._weighed(node)

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        return self._weighed(node)

    def visit_ListComp(self, node: ast.ListComp) -> ast.AST:
        return _call("_weighed_", [super().visit_ListComp(node)], node)

    def visit_SetComp(self, node: ast.SetComp) -> ast.AST:
        return _call("_weighed_", [super().visit_SetComp(node)], node)

    def visit_DictComp(self, node: ast.DictComp) -> ast.AST:
        return _call("_weighed_", [super().visit_DictComp(node)], node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        node = self.node_contents_visit(node)
        if all(isinstance(op, ast.Is | ast.IsNot) for op in node.ops):
            return node  # identity: nothing is walked

        def weighed(operand: ast.expr) -> ast.expr:
            return operand if isinstance(operand, ast.Constant) else _call("_weighed_", [operand], operand)
        node.left = weighed(node.left)
        node.comparators = [weighed(c) for c in node.comparators]
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            self.error(node, f"{node.func.id}() is not allowed in scripts or expressions.")
        return super().visit_Call(node)

    def visit_Import(self, node: ast.Import) -> ast.AST:
        self.error(node, "Imports are not allowed.")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        self.error(node, "Imports are not allowed.")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self.error(node, "Class definitions are not allowed.")
        return node

    def visit_While(self, node: ast.While) -> ast.AST:
        node = self.node_contents_visit(node)
        tick = ast.Expr(_call("_tick_", [], node))
        copy_locations(tick, node)
        node.body.insert(0, tick)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node = super().visit_FunctionDef(node)
        tick = ast.Expr(_call("_tick_", [], node))
        copy_locations(tick, node)
        node.body.insert(0, tick)
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        node = super().visit_Lambda(node)
        node.body = ast.BoolOp(op=ast.Or(), values=[_call("_tick_", [], node.body), node.body])
        copy_locations(node.body, node.body.values[1])
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        node = self.node_contents_visit(node)
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        value = _call("_format_", [node.value, spec, ast.Constant(node.conversion)], node)
        new = ast.FormattedValue(value=value, conversion=-1, format_spec=None)
        copy_locations(new, node)
        return new

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST | list[ast.AST]:
        if not isinstance(node.target, ast.Subscript):
            return super().visit_AugAssign(node)
        # data[key] += value  ->  _tmpA = data; _tmpB = key;
        #                         _write_(_tmpA)[_tmpB] = _inplacevar_("+=", _getitem_(_tmpA, _tmpB), value)
        obj = self.visit(node.target.value)
        key = self.visit(node.target.slice)
        value = self.visit(node.value)
        obj_name, key_name = self.gen_tmp_name(), self.gen_tmp_name()
        stmts: list[ast.AST] = [
            ast.Assign(targets=[ast.Name(obj_name, ast.Store())], value=obj),
            ast.Assign(targets=[ast.Name(key_name, ast.Store())], value=key),
        ]
        current = _call("_getitem_", [ast.Name(obj_name, ast.Load()), ast.Name(key_name, ast.Load())], node)
        new_value = _call("_inplacevar_", [ast.Constant(_IOP[type(node.op)]), current, value], node)
        target = ast.Subscript(value=_call("_write_", [ast.Name(obj_name, ast.Load())], node),
                               slice=ast.Name(key_name, ast.Load()), ctx=ast.Store())
        stmts.append(ast.Assign(targets=[target], value=new_value))
        for stmt in stmts:
            copy_locations(stmt, node)
        return stmts


@functools.lru_cache(maxsize=4096)
def _compile_cached(source: str, mode: str) -> tuple[types.CodeType | None, str | None]:
    if len(source) > MAX_SOURCE_CHARS:
        return None, f"The code is too long ({len(source):,} characters; the limit is {MAX_SOURCE_CHARS:,})."
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # e.g. "Prints, but never reads 'printed'"
            return compile_restricted(source, FILENAME, mode, policy=SandboxTransformer), None
    except SyntaxError as err:
        if isinstance(err.args[0], tuple | list):  # RestrictedPython's list of refusals
            return None, "; ".join(str(e).rstrip(".") for e in err.args[0]) + "."
        line = f" on line {err.lineno}" if err.lineno else ""
        return None, f"Syntax error{line}: {err.msg}."
    except (RecursionError, MemoryError, ValueError, OverflowError) as err:
        return None, f"The code could not be compiled: {type(err).__name__}: {err}."


def compile_sandboxed(source: str, mode: str) -> types.CodeType:
    """Compile ``source`` ("eval" or "exec") under the sandbox rules; SandboxViolation if refused."""
    if not isinstance(source, str):
        raise SandboxViolation(f"The code must be a string, not {type(source).__name__}.")
    code, error = _compile_cached(source, mode)
    if error is not None:
        raise SandboxViolation(error)
    assert code is not None
    return code


def check_source(source: str, mode: str) -> str | None:
    """None if ``source`` compiles under the sandbox rules, else the reason it does not."""
    if not isinstance(source, str):
        return f"The code must be a string, not {type(source).__name__}."
    return _compile_cached(source, mode)[1]

