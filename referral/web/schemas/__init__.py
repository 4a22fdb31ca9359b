"""marshmallow schemas at the boundary, one module per domain; `base` holds the common rules."""
