"""Scale benchmark: a large commercial customer, imported and measured end to end (`python -m bench`)."""
