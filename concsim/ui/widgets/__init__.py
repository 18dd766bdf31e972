"""The run screen's widgets: thin shells over the pure drawing in ``concsim.ui``."""
