"""The public API of the language front end: parse, check, compile, format, diagnostics.

Errors are values: every function returns diagnostics instead of raising for
a bad recipe. Nothing here imports torch or the runtime.
"""
from __future__ import annotations

from .ast import Recipe, Unknown, Use
from .checker import check_recipe
from .compiler import Settings, compile_ast, plan_modelset
from .defaults import MAX_SEED
from .diagnostics import Diagnostic, has_errors, render_diagnostics, sort_diagnostics
from .engines.registry import EngineDefaults
from .formatter import format_recipe
from .lexical import is_device_name, is_name
from .model_names import ModelNames
from .parser import parse_recipe
from .plan import Plan
from .save_paths import plan_output_diagnostics
from .spans import Span
from .suggest import did_you_mean

__all__ = [
    "Diagnostic", "Plan", "Recipe", "check", "compile_recipe", "format_recipe", "parse",
    "render_diagnostics", "has_errors",
]

OVERRIDE_KEYS: tuple[str, ...] = ("seed", "use", "modelset", "device")


def parse(text: str, source_name: str = "<recipe>") -> tuple[Recipe | None, list[Diagnostic]]:
    """Syntax only: the AST (None when the text cannot be parsed at all) and the syntax errors."""
    return parse_recipe(text, source_name)


def check(text: str, source_name: str = "<recipe>", names: ModelNames | None = None,
          modelset: str | None = None) -> tuple[Recipe | None, list[Diagnostic]]:
    """Parse and check: every error the front end can find, in source order. With ``names`` (the
    installed model sets, ``ModelNames.discover()``), also unknown model sets and mapper prompts that
    no mapper has (``modelset``: the set when the recipe has no ``use``, e.g. from ``--models``)."""
    recipe, _, diagnostics = _check_and_compile(text, source_name, names, Settings(modelset=modelset))
    return recipe, diagnostics


def compile_recipe(
    text: str, source_name: str = "<recipe>", overrides: dict[str, str] | None = None,
    names: ModelNames | None = None,
) -> tuple[Plan | None, list[Diagnostic]]:
    """Check and compile; the plan is None when there is any error (warnings do not stop it)."""
    settings, override_diagnostics = parse_overrides(overrides or {})
    _, plan, diagnostics = _check_and_compile(text, source_name, names, settings)
    diagnostics = override_diagnostics + diagnostics
    if plan is None or has_errors(diagnostics):
        return None, diagnostics
    return plan, diagnostics


def _check_and_compile(
    text: str, source_name: str, names: ModelNames | None, settings: Settings,
) -> tuple[Recipe | None, Plan | None, list[Diagnostic]]:
    """Parse, check and (when the check finds no error) compile once: the recipe, the plan (None
    after an error) and the sorted diagnostics, which include what only the compiled plan shows
    (outputs that collide, save_paths.py; no setting changes an output path)."""
    recipe, diagnostics = parse_recipe(text, source_name)
    if recipe is None:
        return None, None, diagnostics
    broken = [(d.span.line, d.span.column) for d in diagnostics]
    broken += [(s.span.line, s.span.column) for s in recipe.statements if isinstance(s, Unknown)]
    diagnostics = diagnostics + check_recipe(recipe, source_name, flow_until=min(broken, default=None),
                                             names=names, modelset=settings.modelset)
    plan = None
    if not has_errors(diagnostics):
        defaults, problem = _engine_defaults(recipe, source_name, names, settings)
        if problem is not None:
            return recipe, None, sort_diagnostics(diagnostics + [problem])
        plan = compile_ast(recipe, source_name, settings, lambda _modelset: defaults)
        diagnostics += plan_output_diagnostics(plan.to_dict(), source_name)
    return recipe, plan, sort_diagnostics(diagnostics)


def _engine_defaults(recipe: Recipe, source_name: str, names: ModelNames | None,
                     settings: Settings) -> tuple[EngineDefaults, Diagnostic | None]:
    """The ``engine_defaults`` of the set the recipe runs on (from its YAML; {} for a set that is not
    installed), or an error pointing at the recipe's ``use`` when the YAML has them wrong."""
    modelset = plan_modelset(recipe, settings)
    try:
        return (names or ModelNames(())).engine_defaults(modelset), None
    except ValueError as exc:
        use = next((s for s in reversed(recipe.statements) if isinstance(s, Use)), None)
        span = use.span if use is not None else Span(1, 1, 1, 1)
        return EngineDefaults(), Diagnostic(f"model set '{modelset}': {exc}", "fix the model set's YAML (its engine_defaults)",
                              span, source_name, "error", "E-modelset-defaults")


def parse_overrides(overrides: dict[str, str]) -> tuple[Settings, list[Diagnostic]]:
    """``--set k=v`` pairs -> Settings (keys: seed, use / modelset, device)."""
    diagnostics: list[Diagnostic] = []
    modelset = seed = device = None
    for key, value in overrides.items():
        context = f"{key}={value}"
        value_span = Span(1, len(key) + 2, 1, len(context) + 1)
        if key in ("use", "modelset"):
            if is_name(value):
                modelset = value
            else:
                diagnostics.append(_override_error("not a model set name", value_span, context))
        elif key == "seed":
            # ASCII digits only, and few enough for int() (5000 digits, or '²', would raise)
            if value.isascii() and value.isdigit() and len(value) <= 12 and int(value) <= MAX_SEED:
                seed = int(value)
            else:
                diagnostics.append(_override_error(f"seed must be an integer from 0 to {MAX_SEED}", value_span, context))
        elif key == "device":
            if is_device_name(value):
                device = value
            else:
                diagnostics.append(_override_error("not a device name (cpu, cuda, cuda:0)", value_span, context))
        else:
            hint = did_you_mean(key, OVERRIDE_KEYS, "settings: " + ", ".join(OVERRIDE_KEYS))
            span = Span(1, 1, 1, len(key) + 1)
            diagnostics.append(Diagnostic(
                f"unknown setting '{key}'", hint, span, "--set", "error", "E-unknown-setting", context
            ))
    return Settings(modelset, seed, device), diagnostics


def _override_error(message: str, span: Span, context: str) -> Diagnostic:
    return Diagnostic(message, None, span, "--set", "error", "E-type", context)
