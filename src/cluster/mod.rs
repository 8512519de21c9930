//! The Kubernetes side: kubeconfig, targets, patches, rollout waiting.
//! Nothing here is touched by `warpdrive exec`.
