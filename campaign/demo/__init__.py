"""The demo county: 临安区's real unit tree, users of every role, an active campaign."""
