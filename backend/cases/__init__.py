"""Applications for assistance (申请): minimal until the case workflow exists."""
