"""The built-in gate stages; :mod:`mlgates.registry` lists them and loads them on demand."""
