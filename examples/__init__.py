"""Reference services built with stepsaga."""
