//! `.warpdrive/action_hooks/deploy-cfg` (once per container) and `deploy` (every start).
