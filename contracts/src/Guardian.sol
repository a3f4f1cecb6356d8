// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/*
 * Vigil Guardian: the on-chain half of the Vigil guardian bot.
 *
 * Trust model
 * -----------
 * - Governance (a Safe multisig in production) decides everything: which protocol contracts are
 *   targets and which selectors pause/unpause them, which bot keys are sentinels and how many
 *   targets each may pause per budget window, how long an unconfirmed pause lasts, and whether a
 *   pause is confirmed or lifted. The protected contracts grant their pause role to this
 *   contract, never to a bot key.
 * - Sentinels (hot bot keys) can do exactly one thing: pause registered targets, within a budget.
 *   They cannot unpause, change any setting, or move funds. A leaked sentinel key can therefore
 *   at worst pause `budget` targets per window, each for at most `maxPauseDuration`.
 * - Pauses expire unless governance confirms them: after `expiresAt` anyone may lift an
 *   unconfirmed pause, so a griefing sentinel cannot freeze a protocol indefinitely, while a real
 *   incident gets confirmed by governance and then stays paused until governance lifts it.
 * - The Guardian holds no funds: it has no payable function, no receive and no fallback.
 *
 * Prior art this design borrows from
 * ----------------------------------
 * - Compound's pause guardian: a separate, narrowly scoped role that can only pause (never
 *   unpause); unpausing stays with governance.
 * - Lido's GateSeal and CircuitBreaker: a committee key with a one-shot/limited pause power whose
 *   pauses are time-limited, so misuse is bounded and expires on its own.
 * - Balancer's TemporarilyPausable: pauses carry an explicit expiry after which the system
 *   returns to normal operation without further action.
 */

/// @title Guardian
/// @notice Lets whitelisted bot keys ("sentinels") pause registered protocol contracts within a
/// rate budget; pauses expire unless governance confirms them. Governance controls everything else.
/// @dev Targets must grant this contract the right to call their pause and unpause selectors. A
/// target should expose `paused() returns (bool)` reflecting the state those selectors toggle
/// (or no `paused()` at all): the Guardian reads it to avoid double-pausing and to tolerate a
/// target that was already unpaused by other means.
contract Guardian is ReentrancyGuardTransient {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice The Guardian's record of a pause it applied to a target.
    /// @param incidentId Off-chain incident identifier supplied by the sentinel.
    /// @param sentinel The sentinel that applied (or last renewed) the pause.
    /// @param pausedAt Timestamp at which the pause was applied or last renewed.
    /// @param expiresAt Timestamp from which anyone may lift the pause, unless confirmed.
    /// @param confirmed Whether governance confirmed the pause; confirmed pauses never expire.
    struct PauseRecord {
        bytes32 incidentId;
        address sentinel;
        uint64 pausedAt;
        uint64 expiresAt;
        bool confirmed;
    }

    /// @dev A sentinel's budget and its usage in the budget window with index `windowIndex`.
    struct SentinelBudget {
        uint32 budget;
        uint32 used;
        uint64 windowIndex;
    }

    /// @dev The selectors the Guardian calls on a target.
    struct TargetConfig {
        bytes4 pauseSelector;
        bytes4 unpauseSelector;
    }

    /// @notice Lower bound for `maxPauseDuration` and `budgetWindow`, in seconds.
    uint64 public constant MIN_DURATION = 60;
    /// @notice Upper bound for `maxPauseDuration` and `budgetWindow`, in seconds.
    uint64 public constant MAX_DURATION = 30 days;

    /// @dev Default target selectors and the optional state probe.
    bytes4 private constant DEFAULT_PAUSE_SELECTOR = bytes4(keccak256("pause()"));
    bytes4 private constant DEFAULT_UNPAUSE_SELECTOR = bytes4(keccak256("unpause()"));
    bytes4 private constant PAUSED_SELECTOR = bytes4(keccak256("paused()"));

    /// @notice The account allowed to change settings, confirm and lift pauses at any time.
    address public governance;
    /// @notice The account that may accept governance (two-step transfer); zero if none.
    address public pendingGovernance;
    /// @notice How long a new unconfirmed pause lasts, in seconds.
    uint64 public maxPauseDuration;
    /// @notice Length of the fixed budget windows, in seconds.
    uint64 public budgetWindow;

    EnumerableSet.AddressSet private _sentinels;
    EnumerableSet.AddressSet private _targets;
    mapping(address sentinel => SentinelBudget) private _budgets;
    mapping(address target => TargetConfig) private _targetConfigs;
    mapping(address target => PauseRecord) private _pauses;

    /// @notice Governance transfer proposed; `next` must call `acceptGovernance`.
    /// @param previous The current governance.
    /// @param next The proposed governance (zero cancels a pending transfer).
    event GovernanceTransferStarted(address indexed previous, address indexed next);
    /// @notice Governance changed (also emitted at deployment with `previous` = 0).
    /// @param previous The former governance.
    /// @param next The new governance.
    event GovernanceTransferred(address indexed previous, address indexed next);
    /// @notice A sentinel was added.
    /// @param sentinel The sentinel key.
    /// @param budget Targets it may pause per budget window.
    event SentinelAdded(address indexed sentinel, uint32 budget);
    /// @notice A sentinel was removed.
    /// @param sentinel The sentinel key.
    event SentinelRemoved(address indexed sentinel);
    /// @notice A sentinel's budget was changed.
    /// @param sentinel The sentinel key.
    /// @param budget Targets it may pause per budget window.
    event SentinelBudgetSet(address indexed sentinel, uint32 budget);
    /// @notice The budget window length changed.
    /// @param window New window length in seconds.
    event BudgetWindowSet(uint64 window);
    /// @notice The duration of new unconfirmed pauses changed.
    /// @param duration New duration in seconds.
    event MaxPauseDurationSet(uint64 duration);
    /// @notice A target was registered.
    /// @param target The protocol contract.
    /// @param pauseSelector Selector the Guardian calls to pause it.
    /// @param unpauseSelector Selector the Guardian calls to unpause it.
    event TargetAdded(address indexed target, bytes4 pauseSelector, bytes4 unpauseSelector);
    /// @notice A target was deregistered.
    /// @param target The protocol contract.
    event TargetRemoved(address indexed target);
    /// @notice A sentinel paused (or renewed the pause of) a target.
    /// @param target The protocol contract.
    /// @param incidentId Off-chain incident identifier.
    /// @param sentinel The sentinel that paused it.
    /// @param expiresAt Timestamp from which anyone may lift the pause, unless confirmed.
    event Paused(address indexed target, bytes32 indexed incidentId, address indexed sentinel, uint64 expiresAt);
    /// @notice A requested pause was not applied because the target is already paused.
    /// @param target The protocol contract.
    /// @param incidentId Incident identifier of the skipped request.
    /// @param sentinel The sentinel that requested the pause.
    event PauseSkipped(address indexed target, bytes32 indexed incidentId, address indexed sentinel);
    /// @notice Governance confirmed a pause; it no longer expires.
    /// @param target The protocol contract.
    /// @param incidentId Incident identifier of the confirmed pause.
    event PauseConfirmed(address indexed target, bytes32 indexed incidentId);
    /// @notice A pause was lifted and the target unpaused.
    /// @param target The protocol contract.
    /// @param incidentId Incident identifier of the lifted pause.
    /// @param by The account that lifted it.
    event PauseLifted(address indexed target, bytes32 indexed incidentId, address indexed by);

    /// @notice The caller is not allowed to do this.
    error Unauthorized();
    /// @notice A zero address was given where an account is required.
    error ZeroAddress();
    /// @notice The account is already a sentinel.
    /// @param sentinel The account.
    error AlreadySentinel(address sentinel);
    /// @notice The account is not a sentinel.
    /// @param account The account.
    error NotSentinel(address account);
    /// @notice A sentinel budget must be greater than zero.
    error InvalidBudget();
    /// @notice A duration or window is outside [MIN_DURATION, MAX_DURATION].
    error InvalidDuration();
    /// @notice Target selectors must be nonzero and distinct.
    error InvalidSelector();
    /// @notice The address has no code.
    /// @param target The address.
    error NotAContract(address target);
    /// @notice The address cannot be a target (the Guardian itself).
    /// @param target The address.
    error InvalidTarget(address target);
    /// @notice The target is already registered.
    /// @param target The target.
    error AlreadyTarget(address target);
    /// @notice The address is not a registered target.
    /// @param target The address.
    error NotTarget(address target);
    /// @notice The target cannot be removed while the Guardian's pause on it is recorded.
    /// @param target The target.
    error TargetStillPaused(address target);
    /// @notice The Guardian has no pause recorded for the target.
    /// @param target The target.
    error NotPaused(address target);
    /// @notice Only governance may lift the pause before it expires.
    /// @param target The target.
    /// @param expiresAt Timestamp from which anyone may lift it.
    error PauseNotExpired(address target, uint64 expiresAt);
    /// @notice The call to the target's pause or unpause selector reverted.
    /// @param target The target.
    /// @param reason The target's revert data.
    error TargetCallFailed(address target, bytes reason);
    /// @notice The sentinel has used its whole budget for the current window.
    /// @param sentinel The sentinel.
    /// @param budget Its budget per window.
    error BudgetExceeded(address sentinel, uint32 budget);
    /// @notice `pause` was called with an empty target list.
    error NoTargets();

    /// @dev Reverts with `Unauthorized()` unless the caller is governance.
    modifier onlyGovernance() {
        if (msg.sender != governance) revert Unauthorized();
        _;
    }

    /// @dev Reverts with `NotSentinel(caller)` unless the caller is a sentinel.
    modifier onlySentinel() {
        if (!_sentinels.contains(msg.sender)) revert NotSentinel(msg.sender);
        _;
    }

    /// @notice Deploys the Guardian with no sentinels and no targets.
    /// @param governance_ The governance account (a Safe in production).
    /// @param maxPauseDuration_ Duration of unconfirmed pauses, in [MIN_DURATION, MAX_DURATION].
    /// @param budgetWindow_ Budget window length, in [MIN_DURATION, MAX_DURATION].
    constructor(address governance_, uint64 maxPauseDuration_, uint64 budgetWindow_) {
        if (governance_ == address(0)) revert ZeroAddress();
        governance = governance_;
        emit GovernanceTransferred(address(0), governance_);
        _setMaxPauseDuration(maxPauseDuration_);
        _setBudgetWindow(budgetWindow_);
    }

    // ---------------------------------------------------------------------------------------
    // Governance
    // ---------------------------------------------------------------------------------------

    /// @notice Starts a two-step governance transfer; `newGovernance` must accept it.
    /// @dev Passing the zero address cancels a pending transfer.
    /// @param newGovernance The proposed governance.
    function transferGovernance(address newGovernance) external onlyGovernance {
        pendingGovernance = newGovernance;
        emit GovernanceTransferStarted(governance, newGovernance);
    }

    /// @notice Completes a governance transfer. Only callable by `pendingGovernance`.
    function acceptGovernance() external {
        if (msg.sender != pendingGovernance || msg.sender == address(0)) revert Unauthorized();
        emit GovernanceTransferred(governance, msg.sender);
        governance = msg.sender;
        delete pendingGovernance;
    }

    /// @notice Adds a sentinel key.
    /// @param sentinel The bot key.
    /// @param budget Maximum number of targets it may pause per budget window (> 0).
    function addSentinel(address sentinel, uint32 budget) external onlyGovernance {
        if (sentinel == address(0)) revert ZeroAddress();
        if (budget == 0) revert InvalidBudget();
        if (!_sentinels.add(sentinel)) revert AlreadySentinel(sentinel);
        _budgets[sentinel] = SentinelBudget({budget: budget, used: 0, windowIndex: 0});
        emit SentinelAdded(sentinel, budget);
    }

    /// @notice Removes a sentinel key. Pauses it applied stay recorded.
    /// @param sentinel The bot key.
    function removeSentinel(address sentinel) external onlyGovernance {
        if (!_sentinels.remove(sentinel)) revert NotSentinel(sentinel);
        delete _budgets[sentinel];
        emit SentinelRemoved(sentinel);
    }

    /// @notice Changes a sentinel's budget. Usage in the current window is kept, so lowering the
    /// budget below it blocks the sentinel until the window ends.
    /// @param sentinel The bot key.
    /// @param budget Maximum number of targets it may pause per budget window (> 0).
    function setSentinelBudget(address sentinel, uint32 budget) external onlyGovernance {
        if (!_sentinels.contains(sentinel)) revert NotSentinel(sentinel);
        if (budget == 0) revert InvalidBudget();
        _budgets[sentinel].budget = budget;
        emit SentinelBudgetSet(sentinel, budget);
    }

    /// @notice Sets the budget window length. Windows are fixed: index = block.timestamp / window.
    /// @dev Changing the window re-bases the window index, which in practice resets every
    /// sentinel's usage (usage is only carried over if the old and new index happen to coincide).
    /// @param window Window length in seconds, in [MIN_DURATION, MAX_DURATION].
    function setBudgetWindow(uint64 window) external onlyGovernance {
        _setBudgetWindow(window);
    }

    /// @notice Sets how long new unconfirmed pauses last. Existing pauses keep their expiry.
    /// @param duration Duration in seconds, in [MIN_DURATION, MAX_DURATION].
    function setMaxPauseDuration(uint64 duration) external onlyGovernance {
        _setMaxPauseDuration(duration);
    }

    /// @notice Registers a target paused with `pause()` and unpaused with `unpause()`.
    /// @param target The protocol contract; it must grant the Guardian its pause role.
    function addTarget(address target) external onlyGovernance {
        _addTarget(target, DEFAULT_PAUSE_SELECTOR, DEFAULT_UNPAUSE_SELECTOR);
    }

    /// @notice Registers a target with custom argument-less pause and unpause selectors.
    /// @dev Sentinels can make the Guardian call `pauseSelector` on `target`: governance must
    /// only register selectors that are safe for an untrusted key to trigger.
    /// @param target The protocol contract; it must grant the Guardian its pause role.
    /// @param pauseSelector Selector called to pause the target.
    /// @param unpauseSelector Selector called to unpause the target.
    function addTarget(address target, bytes4 pauseSelector, bytes4 unpauseSelector) external onlyGovernance {
        _addTarget(target, pauseSelector, unpauseSelector);
    }

    /// @notice Deregisters a target. Reverts while the Guardian's pause on it is recorded
    /// (lift it first), so no pause can be orphaned.
    /// @param target The target.
    function removeTarget(address target) external onlyGovernance {
        if (!_targets.contains(target)) revert NotTarget(target);
        if (_pauses[target].sentinel != address(0)) revert TargetStillPaused(target);
        _targets.remove(target);
        delete _targetConfigs[target];
        emit TargetRemoved(target);
    }

    /// @notice Confirms the recorded pause of `target`: it no longer expires and only governance
    /// can lift it. Also accepted for a pause that has expired but not been lifted yet.
    /// @param target The target.
    function confirmPause(address target) external onlyGovernance {
        PauseRecord storage record = _pauses[target];
        if (record.sentinel == address(0)) revert NotPaused(target);
        record.confirmed = true;
        emit PauseConfirmed(target, record.incidentId);
    }

    /// @notice Lifts the Guardian's pause of `target` and unpauses it. Governance may do so at any
    /// time; anyone else only once an unconfirmed pause has expired.
    /// @dev Sentinels are "anyone else" here on purpose: lifting an expired pause is
    /// permissionless, so barring sentinel keys would add nothing. If the unpause call reverts
    /// the revert is bubbled as `TargetCallFailed`, unless the target reports `paused() == false`
    /// (someone already unpaused it by other means): then there is nothing to lift and the record
    /// is deleted anyway, so a stale record can never block the target forever.
    /// @param target The target.
    function liftPause(address target) external nonReentrant {
        PauseRecord memory record = _pauses[target];
        if (record.sentinel == address(0)) revert NotPaused(target);
        if (msg.sender != governance) {
            if (record.confirmed) revert Unauthorized();
            // Expiry is a coarse (hours/days) bound; a few seconds of validator drift are harmless.
            // forge-lint: disable-next-line(block-timestamp)
            if (block.timestamp < record.expiresAt) revert PauseNotExpired(target, record.expiresAt);
        }

        delete _pauses[target];
        emit PauseLifted(target, record.incidentId, msg.sender);

        (bool ok, bytes memory reason) = _callTarget(target, _targetConfigs[target].unpauseSelector);
        if (!ok) {
            (bool known, bool paused) = _probePaused(target);
            if (!known || paused) revert TargetCallFailed(target, reason);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Sentinels
    // ---------------------------------------------------------------------------------------

    /// @notice Pauses each of `targets_`, consuming one unit of the caller's budget per target
    /// actually paused. Idempotent: targets already paused are skipped without error or budget.
    /// @dev Per target, in order:
    /// 1. not registered -> revert `NotTarget`;
    /// 2. the Guardian's pause is active (confirmed or not yet expired) -> skip (`PauseSkipped`);
    /// 3. no record and the target reports `paused() == true` -> skip (paused by someone else);
    /// 4. otherwise consume budget, (re)write the record with a fresh expiry, emit `Paused`, and
    ///    call the pause selector unless the target reports itself paused.
    /// Decision on renewals: a record that has expired but was not lifted is RENEWED even though
    /// the target still reports paused. Skipping would leave a pause anyone can lift at any moment,
    /// which is exactly what a sentinel re-firing during an ongoing incident wants to prevent. The
    /// renewal costs budget like a new pause (it extends the sentinel's pause power) and writes a
    /// whole new record (new incident id, sentinel, pausedAt and expiresAt); the pause selector is
    /// not called again when the target already reports paused (it would usually revert).
    /// All-or-nothing: any failing target (or exceeded budget) reverts the whole call.
    /// @param targets_ Targets to pause; duplicates are skipped after their first occurrence.
    /// @param incidentId Off-chain incident identifier stored in the record and events.
    function pause(address[] calldata targets_, bytes32 incidentId) external onlySentinel nonReentrant {
        uint256 count = targets_.length;
        if (count == 0) revert NoTargets();
        for (uint256 i; i < count; ++i) {
            _pause(targets_[i], incidentId);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    /// @notice Whether `account` is a sentinel.
    /// @param account The account.
    /// @return True if it is a sentinel.
    function isSentinel(address account) external view returns (bool) {
        return _sentinels.contains(account);
    }

    /// @notice All sentinels, in no particular order.
    /// @return The sentinel keys.
    function sentinels() external view returns (address[] memory) {
        return _sentinels.values();
    }

    /// @notice Whether `account` is a registered target.
    /// @param account The account.
    /// @return True if it is a target.
    function isTarget(address account) external view returns (bool) {
        return _targets.contains(account);
    }

    /// @notice All registered targets, in no particular order.
    /// @return The targets.
    function targets() external view returns (address[] memory) {
        return _targets.values();
    }

    /// @notice The selectors used for `target` (zero if not registered).
    /// @param target The target.
    /// @return pauseSelector Selector called to pause it.
    /// @return unpauseSelector Selector called to unpause it.
    function targetConfig(address target) external view returns (bytes4 pauseSelector, bytes4 unpauseSelector) {
        TargetConfig memory config = _targetConfigs[target];
        return (config.pauseSelector, config.unpauseSelector);
    }

    /// @notice The Guardian's pause record for `target` (all zero if none).
    /// @param target The target.
    /// @return The record.
    function pauseOf(address target) external view returns (PauseRecord memory) {
        return _pauses[target];
    }

    /// @notice Whether the Guardian's pause of `target` is in force: recorded and either confirmed
    /// or not yet expired.
    /// @param target The target.
    /// @return True if active.
    function isPauseActive(address target) external view returns (bool) {
        PauseRecord storage record = _pauses[target];
        return record.sentinel != address(0) && _isActive(record);
    }

    /// @notice A sentinel's budget and usage in the current window (all zero but `windowEndsAt`
    /// for non-sentinels).
    /// @param sentinel The sentinel.
    /// @return budget Targets it may pause per window.
    /// @return usedInWindow Targets it paused in the current window.
    /// @return windowEndsAt Timestamp at which the current window ends and usage resets.
    function budgetOf(address sentinel)
        external
        view
        returns (uint32 budget, uint32 usedInWindow, uint64 windowEndsAt)
    {
        SentinelBudget memory b = _budgets[sentinel];
        uint64 index = _currentWindowIndex();
        budget = b.budget;
        usedInWindow = b.windowIndex == index ? b.used : 0;
        windowEndsAt = (index + 1) * budgetWindow;
    }

    // ---------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------

    function _pause(address target, bytes32 incidentId) private {
        if (!_targets.contains(target)) revert NotTarget(target);

        PauseRecord storage record = _pauses[target];
        bool recorded = record.sentinel != address(0);
        if (recorded && _isActive(record)) {
            emit PauseSkipped(target, incidentId, msg.sender);
            return;
        }
        (, bool alreadyPaused) = _probePaused(target);
        if (!recorded && alreadyPaused) {
            emit PauseSkipped(target, incidentId, msg.sender);
            return;
        }

        _consumeBudget(msg.sender);
        uint64 expiresAt = uint64(block.timestamp) + maxPauseDuration;
        _pauses[target] = PauseRecord({
            incidentId: incidentId,
            sentinel: msg.sender,
            pausedAt: uint64(block.timestamp),
            expiresAt: expiresAt,
            confirmed: false
        });
        emit Paused(target, incidentId, msg.sender, expiresAt);

        if (!alreadyPaused) {
            (bool ok, bytes memory reason) = _callTarget(target, _targetConfigs[target].pauseSelector);
            if (!ok) revert TargetCallFailed(target, reason);
        }
    }

    function _consumeBudget(address sentinel) private {
        SentinelBudget storage b = _budgets[sentinel];
        uint64 index = _currentWindowIndex();
        if (b.windowIndex != index) {
            b.windowIndex = index;
            b.used = 0;
        }
        if (b.used >= b.budget) revert BudgetExceeded(sentinel, b.budget);
        unchecked {
            ++b.used; // used < budget <= type(uint32).max
        }
    }

    function _addTarget(address target, bytes4 pauseSelector, bytes4 unpauseSelector) private {
        if (pauseSelector == bytes4(0) || unpauseSelector == bytes4(0) || pauseSelector == unpauseSelector) {
            revert InvalidSelector();
        }
        if (target == address(this)) revert InvalidTarget(target);
        if (target.code.length == 0) revert NotAContract(target);
        if (!_targets.add(target)) revert AlreadyTarget(target);
        _targetConfigs[target] = TargetConfig({pauseSelector: pauseSelector, unpauseSelector: unpauseSelector});
        emit TargetAdded(target, pauseSelector, unpauseSelector);
    }

    function _setMaxPauseDuration(uint64 duration) private {
        if (duration < MIN_DURATION || duration > MAX_DURATION) revert InvalidDuration();
        maxPauseDuration = duration;
        emit MaxPauseDurationSet(duration);
    }

    function _setBudgetWindow(uint64 window) private {
        if (window < MIN_DURATION || window > MAX_DURATION) revert InvalidDuration();
        budgetWindow = window;
        emit BudgetWindowSet(window);
    }

    /// @dev Calls an argument-less selector on `target`. Only registered targets reach here.
    function _callTarget(address target, bytes4 selector) private returns (bool ok, bytes memory reason) {
        (ok, reason) = target.call(abi.encodeWithSelector(selector));
    }

    /// @dev Reads `target.paused()`. `known` is false if the call fails or does not return exactly
    /// one ABI-encoded bool (then `paused` is false too); only 32 bytes of return data are copied.
    function _probePaused(address target) private view returns (bool known, bool paused) {
        bytes4 selector = PAUSED_SELECTOR;
        bool success;
        uint256 size;
        uint256 value;
        assembly ("memory-safe") {
            mstore(0x00, selector)
            success := staticcall(gas(), target, 0x00, 0x04, 0x00, 0x20)
            size := returndatasize()
            value := mload(0x00)
        }
        known = success && size == 32 && value <= 1;
        paused = known && value == 1;
    }

    function _isActive(PauseRecord storage record) private view returns (bool) {
        // forge-lint: disable-next-line(block-timestamp)
        return record.confirmed || block.timestamp < record.expiresAt;
    }

    function _currentWindowIndex() private view returns (uint64) {
        return uint64(block.timestamp / budgetWindow);
    }
}
