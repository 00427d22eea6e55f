"""The expression/script sandbox behind ``engine.scripting`` (its facade), one job per module.

Kept free of imports: the script worker process (``engine.sandbox.worker``) imports this package and
must load nothing but the standard library and RestrictedPython."""
