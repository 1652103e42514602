"""A program whose settings are refused: a RunError listing two bad keys, as components.settings raises."""

import pulumi

raise pulumi.RunError("invalid stack settings:\n  tiny:cpu = 300: must be one of 256, 512\n  tiny:team: required")
