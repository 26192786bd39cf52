"""GitHub Actions support: step outputs, job summary, annotations, the sticky
pull-request comment and the history branch (``mlgates github …``)."""
