"""Run a student's answer in the exercise process (a script, copied next to a guarded ``algos``).

The grader starts ``python -I _harness.py`` in a scratch folder that holds this file,
``_plain.py`` and a copy of ``algos`` in which the reference implementations of the exercise
are stand-ins (see :mod:`grading.exercise`). Nothing of the grader is importable here.

Standard input: one JSON document, ``{"statements": [...], "cases": [...]}``:

* ``statements``: ``{"cell": i, "line": l, "source": text}``, the statements of the notebook
  the answer needs (see :mod:`grading.slicing`), run in order in one namespace; a statement
  that raises is reported and the next one runs;
* ``cases``: ``{"id": i, "call": name, "args": [plain, ...]}`` (call a function) or
  ``{"id": i, "value": name | [names]}`` (read variables);
* ``outside`` (optional): installed packages the answer must not call (``"scipy"``,
  ``"sklearn"``). While a case runs, a profile hook watches every Python function call; a call
  into one of them (other than while a module is being imported) stops the case, which is
  reported as ``reference`` with the function's name.

Standard output: one JSON object per line, the only channel back to the grader:
``{"event": "statement", "cell", "line", "error"}`` for a statement that raised,
``{"event": "start", "id"}`` before each case, ``{"event": "case", "id", "status", ...}``
after it (status ``ok`` with ``value``, ``missing``, ``not-callable``, ``not-implemented``,
``reference`` with ``name``, ``raised`` with ``error``), then ``{"event": "done"}``. What the
student's code prints goes to standard error.

Everything here can be changed by the student's code, which runs in this process: the
grader trusts none of it. It decodes what comes back as plain data and judges it against
answers this process never sees.
"""

import builtins
import copy
import json
import os
import sys
import time
import warnings

_HERE = os.path.dirname(os.path.abspath(__file__))


def _one_line(text, limit=300):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _error(exc):
    return {"ename": type(exc).__name__, "evalue": _one_line(exc)}


def _called_references():
    guard = sys.modules.get("algos._guard")
    called = list(getattr(guard, "CALLED", []) or []) if guard else []
    if guard:
        try:
            guard.CALLED.clear()
        except Exception:
            pass
    return [str(c) for c in called]


class OutsideCalled(BaseException):
    """Raised by the profile hook: the answer called a package the exercise leaves out."""


_OUTSIDE_CALLED = []
_FUNCTION = 0x1  # CO_OPTIMIZED: the code of a function (not a module's or class's body)


def _package_roots(names):
    """The folders of the installed packages ``names`` (without importing them)."""
    import importlib.util

    roots = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.submodule_search_locations:
            roots += [os.path.join(p, "") for p in spec.submodule_search_locations]
        elif spec is not None and spec.origin:
            roots.append(spec.origin)
    return tuple(roots)


def _outside_hook(roots):
    """A ``sys.setprofile`` function that stops at the first call into ``roots``."""
    def importing(frame):
        while frame is not None:
            if frame.f_code.co_filename.startswith("<frozen importlib"):
                return True
            frame = frame.f_back
        return False

    def hook(frame, event, arg):
        code = frame.f_code
        if (event == "call" and code.co_flags & _FUNCTION and code.co_filename.startswith(roots)
                and not importing(frame)):
            name = f"{frame.f_globals.get('__name__', '?')}.{getattr(code, 'co_qualname', code.co_name)}"
            _OUTSIDE_CALLED.append(name)
            sys.setprofile(None)
            raise OutsideCalled(name)
    return hook


def main():
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # the student's prints go to standard error from here on
    sys.stdin = open(os.devnull, encoding="utf-8")
    sys.path.insert(0, _HERE)
    import numpy as np

    import _plain

    def send(message):
        channel.write(json.dumps(message, allow_nan=False) + "\n")
        channel.flush()

    namespace = {"__name__": "__main__", "__builtins__": builtins}
    for st in request["statements"]:
        filename = f"<cell {st['cell'] + 1}>"
        try:
            code = compile("\n" * (st["line"] - 1) + st["source"], filename, "exec")
            exec(code, namespace)
        except BaseException as exc:  # noqa: B036 (SystemExit, the stand-ins' error too)
            send({"event": "statement", "cell": st["cell"], "line": st["line"],
                  "error": _error(exc), "references": _called_references()})
    early = _called_references()

    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    roots = _package_roots(request.get("outside") or [])
    hook = _outside_hook(roots) if roots else None
    for case in request["cases"]:
        send({"event": "start", "id": case["id"]})
        started = time.perf_counter()
        del _OUTSIDE_CALLED[:]
        try:
            result = _run_case(case, namespace, _plain, np, hook)
        except BaseException as exc:  # noqa: B036 (e.g. an answer that cannot be encoded)
            result = {"status": "raised", "error": _error(exc)}
        result.update(event="case", id=case["id"], seconds=time.perf_counter() - started)
        called = _called_references() + _OUTSIDE_CALLED[:1]
        if called and result["status"] != "missing":
            result = {"event": "case", "id": case["id"], "status": "reference", "name": called[0]}
        send(result)
    send({"event": "done", "early_references": early})
    channel.close()
    os._exit(0)  # skip whatever the student registered to run at exit


def _run_case(case, namespace, plain, np, hook=None):
    if "value" in case:
        names = case["value"] if isinstance(case["value"], list) else [case["value"]]
        missing = [n for n in names if n not in namespace]
        if missing:
            return {"status": "missing", "name": missing[0]}
        values = [namespace[n] for n in names]
        value = values[0] if isinstance(case["value"], str) else tuple(values)
        return {"status": "ok", "value": plain.encode(value)}
    name = case["call"]
    if name not in namespace:
        return {"status": "missing", "name": name}
    func = namespace[name]
    if not callable(func):
        return {"status": "not-callable", "value": plain.encode(func)}
    args = [plain.decode(a) for a in case["args"]]
    kept = copy.deepcopy(args)
    try:
        sys.setprofile(hook)
        try:
            value = func(*args)
        finally:
            sys.setprofile(None)
    except NotImplementedError:
        return {"status": "not-implemented"}
    except BaseException as exc:  # noqa: B036
        if type(exc).__name__ in ("ReferenceCalled", "OutsideCalled"):
            return {"status": "reference", "name": str(exc)}
        return {"status": "raised", "error": _error(exc)}
    changed = [i for i, (a, b) in enumerate(zip(args, kept))
               if isinstance(b, np.ndarray) and not (
                   isinstance(a, np.ndarray) and a.shape == b.shape
                   and np.array_equal(a, b, equal_nan=True))]
    return {"status": "ok", "value": plain.encode(value), "changed": changed}


if __name__ == "__main__":
    main()
