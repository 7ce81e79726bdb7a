import SwitchboardCore

/// One stored version of a policy, shared by reference by every ticket that runs under it: a
/// million timers carry one pointer each, not a million copies of the policy.
final class SLAPolicyVersion: Sendable {
    let id: Int64
    let policy: SLAPolicy

    init(id: Int64, policy: SLAPolicy) {
        self.id = id
        self.policy = policy
    }
}
