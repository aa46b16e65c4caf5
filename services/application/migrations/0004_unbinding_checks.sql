-- When the binding service last asked whether a binding may end (解除绑定). For a while after the
-- check the binding no longer counts as bound, so no submission can slip in before binding.unbound
-- arrives; the binding counts again if that event never comes (the unbinding failed).
ALTER TABLE bindings ADD COLUMN unbinding_checked_at timestamptz;
