// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "./base/Test.sol";
import {Guardian} from "../src/Guardian.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

// -------------------------------------------------------------------------------------------------
// Mock targets
// -------------------------------------------------------------------------------------------------

/// @notice OpenZeppelin-Pausable-like target: only its guardian may pause/unpause, pausing twice or
/// unpausing while unpaused reverts. Its admin (the deployer) can also toggle it directly.
contract MockPausable {
    error NotGuardian();
    error NotAdmin();
    error EnforcedPause();
    error ExpectedPause();
    error UnpauseBlocked();

    address public immutable guardian;
    address public immutable admin;
    bool public paused;
    bool public unpauseBlocked;
    uint256 public pauseCalls;
    uint256 public unpauseCalls;

    constructor(address guardian_) {
        guardian = guardian_;
        admin = msg.sender;
    }

    function pause() external {
        if (msg.sender != guardian) revert NotGuardian();
        if (paused) revert EnforcedPause();
        paused = true;
        ++pauseCalls;
    }

    function unpause() external {
        if (msg.sender != guardian) revert NotGuardian();
        if (unpauseBlocked) revert UnpauseBlocked();
        if (!paused) revert ExpectedPause();
        paused = false;
        ++unpauseCalls;
    }

    function adminSetPaused(bool value) external {
        if (msg.sender != admin) revert NotAdmin();
        paused = value;
    }

    function setUnpauseBlocked(bool value) external {
        if (msg.sender != admin) revert NotAdmin();
        unpauseBlocked = value;
    }
}

/// @notice Target with custom selectors `halt()` / `resume()` and no `paused()` view. Idempotent.
contract MockHaltable {
    error NotGuardian();

    address public immutable guardian;
    bool public halted;
    uint256 public haltCalls;
    uint256 public resumeCalls;

    constructor(address guardian_) {
        guardian = guardian_;
    }

    function halt() external {
        if (msg.sender != guardian) revert NotGuardian();
        halted = true;
        ++haltCalls;
    }

    function resume() external {
        if (msg.sender != guardian) revert NotGuardian();
        halted = false;
        ++resumeCalls;
    }
}

/// @notice Target whose pause always reverts.
contract MockRevertingPause {
    error Broken(uint256 code);

    function paused() external pure returns (bool) {
        return false;
    }

    function pause() external pure {
        revert Broken(42);
    }

    function unpause() external {}
}

/// @notice Target whose `paused()` returns configurable raw bytes (served by the fallback).
contract MockOddPaused {
    bytes public pausedReturnData;
    uint256 public pauseCalls;

    constructor(bytes memory pausedReturnData_) {
        pausedReturnData = pausedReturnData_;
    }

    function pause() external {
        ++pauseCalls;
    }

    function unpause() external {}

    fallback() external {
        bytes memory data = pausedReturnData;
        assembly ("memory-safe") {
            return(add(data, 0x20), mload(data))
        }
    }
}

/// @notice Target that calls back into the Guardian from its pause/unpause functions.
contract MockReentrant {
    address public immutable guardian;
    bytes public reentryCalldata;
    bool public bubble;
    bool public paused;
    bool public reentryAttempted;
    bool public reentrySucceeded;
    bytes public reentryRevertData;

    constructor(address guardian_) {
        guardian = guardian_;
    }

    function configure(bytes calldata reentryCalldata_, bool bubble_) external {
        reentryCalldata = reentryCalldata_;
        bubble = bubble_;
    }

    function pause() external {
        _reenter();
        paused = true;
    }

    function unpause() external {
        _reenter();
        paused = false;
    }

    function _reenter() private {
        if (reentryCalldata.length == 0) return;
        (bool ok, bytes memory ret) = guardian.call(reentryCalldata);
        if (!ok && bubble) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        reentryAttempted = true;
        reentrySucceeded = ok;
        reentryRevertData = ret;
    }
}

// -------------------------------------------------------------------------------------------------
// Shared fixture
// -------------------------------------------------------------------------------------------------

abstract contract GuardianFixture is Test {
    uint64 internal constant PAUSE_DURATION = 1 days;
    uint64 internal constant WINDOW = 1 hours;
    uint32 internal constant BUDGET = 3;
    uint64 internal constant T0 = 1_700_000_000;

    address internal governance = address(0x6000);
    address internal sentinelA = address(0xA11CE);
    address internal sentinelB = address(0xB0B);
    address internal stranger = address(0x5757);

    Guardian internal guardian;

    function _deployGuardian() internal {
        vm.warp(T0);
        guardian = new Guardian(governance, PAUSE_DURATION, WINDOW);
        vm.label(address(guardian), "Guardian");
        vm.label(governance, "governance");
        vm.label(sentinelA, "sentinelA");
        vm.label(sentinelB, "sentinelB");
        vm.label(stranger, "stranger");
        vm.startPrank(governance);
        guardian.addSentinel(sentinelA, BUDGET);
        guardian.addSentinel(sentinelB, BUDGET);
        vm.stopPrank();
    }

    function _newPausable() internal returns (MockPausable target) {
        target = new MockPausable(address(guardian));
        vm.prank(governance);
        guardian.addTarget(address(target));
    }

    function _list(address a) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    function _list(address a, address b) internal pure returns (address[] memory list) {
        list = new address[](2);
        list[0] = a;
        list[1] = b;
    }

    function _list(address a, address b, address c) internal pure returns (address[] memory list) {
        list = new address[](3);
        list[0] = a;
        list[1] = b;
        list[2] = c;
    }

    function _list(address a, address b, address c, address d) internal pure returns (address[] memory list) {
        list = new address[](4);
        list[0] = a;
        list[1] = b;
        list[2] = c;
        list[3] = d;
    }

    function _pauseAs(address sentinel, address target, bytes32 incidentId) internal {
        vm.prank(sentinel);
        guardian.pause(_list(target), incidentId);
    }

    function _used(address sentinel) internal view returns (uint256 used) {
        (, used,) = guardian.budgetOf(sentinel);
    }
}

// -------------------------------------------------------------------------------------------------
// Unit and fuzz tests
// -------------------------------------------------------------------------------------------------

contract GuardianTest is GuardianFixture {
    bytes32 internal constant INCIDENT = keccak256("incident-1");
    bytes32 internal constant INCIDENT2 = keccak256("incident-2");

    MockPausable internal target1;
    MockPausable internal target2;
    MockPausable internal target3;
    MockPausable internal target4;
    MockHaltable internal haltable;

    function setUp() public {
        _deployGuardian();
        target1 = _newPausable();
        target2 = _newPausable();
        target3 = _newPausable();
        target4 = _newPausable();
        haltable = new MockHaltable(address(guardian));
        vm.prank(governance);
        guardian.addTarget(address(haltable), MockHaltable.halt.selector, MockHaltable.resume.selector);
    }

    // ---------------------------------------------------------------- constructor

    function test_constructor_setsStateAndEmits() public {
        vm.expectEmit(true, true, true, true);
        emit Guardian.GovernanceTransferred(address(0), governance);
        vm.expectEmit(true, true, true, true);
        emit Guardian.MaxPauseDurationSet(2 hours);
        vm.expectEmit(true, true, true, true);
        emit Guardian.BudgetWindowSet(10 minutes);
        Guardian g = new Guardian(governance, 2 hours, 10 minutes);

        assertEq(g.governance(), governance, "governance");
        assertEq(g.pendingGovernance(), address(0), "pending");
        assertEq(g.maxPauseDuration(), 2 hours, "maxPauseDuration");
        assertEq(g.budgetWindow(), 10 minutes, "budgetWindow");
        assertEq(g.sentinels().length, 0, "no sentinels");
        assertEq(g.targets().length, 0, "no targets");
    }

    function test_constructor_revertsOnZeroGovernance() public {
        vm.expectRevert(abi.encodeWithSelector(Guardian.ZeroAddress.selector));
        new Guardian(address(0), PAUSE_DURATION, WINDOW);
    }

    function testFuzz_constructor_validatesDurations(uint64 duration, uint64 window) public {
        bool durationOk = duration >= 60 && duration <= 30 days;
        bool windowOk = window >= 60 && window <= 30 days;
        if (!durationOk || !windowOk) {
            vm.expectRevert(abi.encodeWithSelector(Guardian.InvalidDuration.selector));
        }
        Guardian g = new Guardian(governance, duration, window);
        if (durationOk && windowOk) {
            assertEq(g.maxPauseDuration(), duration, "duration");
            assertEq(g.budgetWindow(), window, "window");
        }
    }

    // ---------------------------------------------------------------- governance transfer

    function test_transferGovernance_twoStep() public {
        address next = address(0x7777);
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.GovernanceTransferStarted(governance, next);
        vm.prank(governance);
        guardian.transferGovernance(next);
        assertEq(guardian.pendingGovernance(), next, "pending set");
        assertEq(guardian.governance(), governance, "not yet transferred");

        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.GovernanceTransferred(governance, next);
        vm.prank(next);
        guardian.acceptGovernance();
        assertEq(guardian.governance(), next, "transferred");
        assertEq(guardian.pendingGovernance(), address(0), "pending cleared");

        // The old governance lost its powers, the new one has them.
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(Guardian.Unauthorized.selector));
        guardian.setMaxPauseDuration(2 days);
        vm.prank(next);
        guardian.setMaxPauseDuration(2 days);
        assertEq(guardian.maxPauseDuration(), 2 days, "new governance acts");
    }

    function test_transferGovernance_toZeroCancels() public {
        vm.startPrank(governance);
        guardian.transferGovernance(address(0x7777));
        guardian.transferGovernance(address(0));
        vm.stopPrank();
        assertEq(guardian.pendingGovernance(), address(0), "cancelled");
        vm.prank(address(0x7777));
        vm.expectRevert(abi.encodeWithSelector(Guardian.Unauthorized.selector));
        guardian.acceptGovernance();
    }

    function test_acceptGovernance_revertsForOthers() public {
        vm.prank(governance);
        guardian.transferGovernance(address(0x7777));
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Guardian.Unauthorized.selector));
        guardian.acceptGovernance();
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(Guardian.Unauthorized.selector));
        guardian.acceptGovernance();
    }

    // ---------------------------------------------------------------- sentinels

    function test_addSentinel() public {
        address s = address(0x5E);
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.SentinelAdded(s, 7);
        vm.prank(governance);
        guardian.addSentinel(s, 7);

        assertTrue(guardian.isSentinel(s), "isSentinel");
        address[] memory all = guardian.sentinels();
        assertEq(all.length, 3, "three sentinels");
        assertEq(all[2], s, "listed");
        (uint32 budget, uint32 used, uint64 windowEndsAt) = guardian.budgetOf(s);
        assertEq(budget, 7, "budget");
        assertEq(used, 0, "unused");
        assertEq(windowEndsAt, (T0 / WINDOW + 1) * WINDOW, "window end");
    }

    function test_addSentinel_reverts() public {
        vm.startPrank(governance);
        vm.expectRevert(abi.encodeWithSelector(Guardian.AlreadySentinel.selector, sentinelA));
        guardian.addSentinel(sentinelA, 1);
        vm.expectRevert(abi.encodeWithSelector(Guardian.ZeroAddress.selector));
        guardian.addSentinel(address(0), 1);
        vm.expectRevert(abi.encodeWithSelector(Guardian.InvalidBudget.selector));
        guardian.addSentinel(address(0x5E), 0);
        vm.stopPrank();
    }

    function test_removeSentinel() public {
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.SentinelRemoved(sentinelA);
        vm.prank(governance);
        guardian.removeSentinel(sentinelA);

        assertFalse(guardian.isSentinel(sentinelA), "removed");
        assertEq(guardian.sentinels().length, 1, "one left");
        (uint32 budget,,) = guardian.budgetOf(sentinelA);
        assertEq(budget, 0, "budget cleared");

        vm.prank(sentinelA);
        vm.expectRevert(abi.encodeWithSelector(Guardian.NotSentinel.selector, sentinelA));
        guardian.pause(_list(address(target1)), INCIDENT);
    }

    function test_removeSentinel_revertsIfAbsent() public {
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(Guardian.NotSentinel.selector, stranger));
        guardian.removeSentinel(stranger);
    }

    function test_removeSentinel_keepsItsPauses() public {
        _pauseAs(sentinelA, address(target1), INCIDENT);
        vm.prank(governance);
        guardian.removeSentinel(sentinelA);
        assertTrue(guardian.isPauseActive(address(target1)), "pause survives");
        assertEq(guardian.pauseOf(address(target1)).sentinel, sentinelA, "record kept");
    }

    function test_setSentinelBudget() public {
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.SentinelBudgetSet(sentinelA, 1);
        vm.prank(governance);
        guardian.setSentinelBudget(sentinelA, 1);
        (uint32 budget,,) = guardian.budgetOf(sentinelA);
        assertEq(budget, 1, "budget");

        _pauseAs(sentinelA, address(target1), INCIDENT);
        vm.prank(sentinelA);
        vm.expectRevert(abi.encodeWithSelector(Guardian.BudgetExceeded.selector, sentinelA, uint32(1)));
        guardian.pause(_list(address(target2)), INCIDENT);
    }

    function test_setSentinelBudget_loweringBelowUsageBlocksUntilWindowEnds() public {
        vm.prank(sentinelA);
        guardian.pause(_list(address(target1), address(target2)), INCIDENT);
        vm.prank(governance);
        guardian.setSentinelBudget(sentinelA, 1);
        (uint32 budget, uint32 used,) = guardian.budgetOf(sentinelA);
        assertEq(budget, 1, "budget");
        assertEq(used, 2, "usage kept");

        vm.prank(sentinelA);
        vm.expectRevert(abi.encodeWithSelector(Guardian.BudgetExceeded.selector, sentinelA, uint32(1)));
        guardian.pause(_list(address(target3)), INCIDENT);
    }

    function test_setSentinelBudget_reverts() public {
        vm.startPrank(governance);
        vm.expectRevert(abi.encodeWithSelector(Guardian.NotSentinel.selector, stranger));
        guardian.setSentinelBudget(stranger, 1);
        vm.expectRevert(abi.encodeWithSelector(Guardian.InvalidBudget.selector));
        guardian.setSentinelBudget(sentinelA, 0);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- durations

    function test_setBudgetWindow() public {
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.BudgetWindowSet(1 days);
        vm.prank(governance);
        guardian.setBudgetWindow(1 days);
        assertEq(guardian.budgetWindow(), 1 days, "window");
        (,, uint64 windowEndsAt) = guardian.budgetOf(sentinelA);
        assertEq(windowEndsAt, (T0 / 1 days + 1) * 1 days, "window end");
    }

    function test_setBudgetWindow_bounds() public {
        vm.startPrank(governance);
        guardian.setBudgetWindow(60);
        assertEq(guardian.budgetWindow(), 60, "min accepted");
        guardian.setBudgetWindow(30 days);
        assertEq(guardian.budgetWindow(), 30 days, "max accepted");
        vm.expectRevert(abi.encodeWithSelector(Guardian.InvalidDuration.selector));
        guardian.setBudgetWindow(59);
        vm.expectRevert(abi.encodeWithSelector(Guardian.InvalidDuration.selector));
        guardian.setBudgetWindow(30 days + 1);
        vm.expectRevert(abi.encodeWithSelector(Guardian.InvalidDuration.selector));
        guardian.setBudgetWindow(0);
        vm.stopPrank();
    }

    function test_setMaxPauseDuration() public {
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.MaxPauseDurationSet(2 hours);
        vm.prank(governance);
        guardian.setMaxPauseDuration(2 hours);
        assertEq(guardian.maxPauseDuration(), 2 hours, "duration");
    }

    function test_setMaxPauseDuration_bounds() public {
        vm.startPrank(governance);
        guardian.setMaxPauseDuration(60);
        assertEq(guardian.maxPauseDuration(), 60, "min accepted");
        guardian.setMaxPauseDuration(30 days);
        assertEq(guardian.maxPauseDuration(), 30 days, "max accepted");
        vm.expectRevert(abi.encodeWithSelector(Guardian.InvalidDuration.selector));
        guardian.setMaxPauseDuration(59);
        vm.expectRevert(abi.encodeWithSelector(Guardian.InvalidDuration.selector));
        guardian.setMaxPauseDuration(30 days + 1);
        vm.stopPrank();
    }

    function test_setMaxPauseDuration_affectsNewPausesOnly() public {
        _pauseAs(sentinelA, address(target1), INCIDENT);
        vm.prank(governance);
        guardian.setMaxPauseDuration(2 hours);
        _pauseAs(sentinelA, address(target2), INCIDENT);
        assertEq(guardian.pauseOf(address(target1)).expiresAt, T0 + PAUSE_DURATION, "old pause unchanged");
        assertEq(guardian.pauseOf(address(target2)).expiresAt, T0 + 2 hours, "new pause uses new duration");
    }

    // ---------------------------------------------------------------- targets

    function test_addTarget_defaultSelectors() public {
        MockPausable t = new MockPausable(address(guardian));
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.TargetAdded(address(t), MockPausable.pause.selector, MockPausable.unpause.selector);
        vm.prank(governance);
        guardian.addTarget(address(t));

        assertTrue(guardian.isTarget(address(t)), "isTarget");
        address[] memory all = guardian.targets();
        assertEq(all.length, 6, "six targets");
        assertEq(all[5], address(t), "listed");
        (bytes4 pauseSelector, bytes4 unpauseSelector) = guardian.targetConfig(address(t));
        assertEq(pauseSelector, bytes4(keccak256("pause()")), "pause selector");
        assertEq(unpauseSelector, bytes4(keccak256("unpause()")), "unpause selector");
    }

    function test_addTarget_customSelectors() public {
        MockHaltable t = new MockHaltable(address(guardian));
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.TargetAdded(address(t), MockHaltable.halt.selector, MockHaltable.resume.selector);
        vm.prank(governance);
        guardian.addTarget(address(t), MockHaltable.halt.selector, MockHaltable.resume.selector);
        (bytes4 pauseSelector, bytes4 unpauseSelector) = guardian.targetConfig(address(t));
        assertEq(pauseSelector, MockHaltable.halt.selector, "pause selector");
        assertEq(unpauseSelector, MockHaltable.resume.selector, "unpause selector");
    }

    function test_addTarget_invalidSelectors() public {
        MockHaltable t = new MockHaltable(address(guardian));
        bytes4 halt = MockHaltable.halt.selector;
        vm.startPrank(governance);
        vm.expectRevert(abi.encodeWithSelector(Guardian.InvalidSelector.selector));
        guardian.addTarget(address(t), bytes4(0), halt);
        vm.expectRevert(abi.encodeWithSelector(Guardian.InvalidSelector.selector));
        guardian.addTarget(address(t), halt, bytes4(0));
        vm.expectRevert(abi.encodeWithSelector(Guardian.InvalidSelector.selector));
        guardian.addTarget(address(t), halt, halt);
        vm.stopPrank();
        assertFalse(guardian.isTarget(address(t)), "not registered");
    }

    function test_addTarget_rejectsNonContracts() public {
        vm.startPrank(governance);
        vm.expectRevert(abi.encodeWithSelector(Guardian.NotAContract.selector, stranger));
        guardian.addTarget(stranger);
        vm.expectRevert(abi.encodeWithSelector(Guardian.NotAContract.selector, address(0)));
        guardian.addTarget(address(0));
        vm.expectRevert(abi.encodeWithSelector(Guardian.NotAContract.selector, stranger));
        guardian.addTarget(stranger, MockHaltable.halt.selector, MockHaltable.resume.selector);
        vm.stopPrank();
    }

    function test_addTarget_rejectsGuardianItself() public {
        vm.startPrank(governance);
        vm.expectRevert(abi.encodeWithSelector(Guardian.InvalidTarget.selector, address(guardian)));
        guardian.addTarget(address(guardian));
        vm.expectRevert(abi.encodeWithSelector(Guardian.InvalidTarget.selector, address(guardian)));
        guardian.addTarget(address(guardian), Guardian.acceptGovernance.selector, Guardian.pause.selector);
        vm.stopPrank();
    }

    function test_addTarget_rejectsDuplicates() public {
        vm.startPrank(governance);
        vm.expectRevert(abi.encodeWithSelector(Guardian.AlreadyTarget.selector, address(target1)));
        guardian.addTarget(address(target1));
        vm.expectRevert(abi.encodeWithSelector(Guardian.AlreadyTarget.selector, address(target1)));
        guardian.addTarget(address(target1), MockHaltable.halt.selector, MockHaltable.resume.selector);
        vm.stopPrank();
    }

    function test_removeTarget() public {
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.TargetRemoved(address(target1));
        vm.prank(governance);
        guardian.removeTarget(address(target1));

        assertFalse(guardian.isTarget(address(target1)), "removed");
        assertEq(guardian.targets().length, 4, "four left");
        (bytes4 pauseSelector, bytes4 unpauseSelector) = guardian.targetConfig(address(target1));
        assertEq(pauseSelector, bytes4(0), "config cleared");
        assertEq(unpauseSelector, bytes4(0), "config cleared");

        vm.prank(sentinelA);
        vm.expectRevert(abi.encodeWithSelector(Guardian.NotTarget.selector, address(target1)));
        guardian.pause(_list(address(target1)), INCIDENT);
    }

    function test_removeTarget_revertsIfAbsent() public {
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(Guardian.NotTarget.selector, stranger));
        guardian.removeTarget(stranger);
    }

    function test_removeTarget_revertsWhilePauseRecorded() public {
        _pauseAs(sentinelA, address(target1), INCIDENT);
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(Guardian.TargetStillPaused.selector, address(target1)));
        guardian.removeTarget(address(target1));

        // Still refused once expired but not lifted: the record is what counts.
        vm.warp(T0 + PAUSE_DURATION);
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(Guardian.TargetStillPaused.selector, address(target1)));
        guardian.removeTarget(address(target1));

        vm.startPrank(governance);
        guardian.liftPause(address(target1));
        guardian.removeTarget(address(target1));
        vm.stopPrank();
        assertFalse(guardian.isTarget(address(target1)), "removed after lift");
    }

    // ---------------------------------------------------------------- pause: happy paths

    function test_pause() public {
        uint64 expiresAt = T0 + PAUSE_DURATION;
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.Paused(address(target1), INCIDENT, sentinelA, expiresAt);
        _pauseAs(sentinelA, address(target1), INCIDENT);

        assertTrue(target1.paused(), "target paused");
        assertEq(target1.pauseCalls(), 1, "one pause call");
        Guardian.PauseRecord memory record = guardian.pauseOf(address(target1));
        assertEq(record.incidentId, INCIDENT, "incident");
        assertEq(record.sentinel, sentinelA, "sentinel");
        assertEq(record.pausedAt, T0, "pausedAt");
        assertEq(record.expiresAt, expiresAt, "expiresAt");
        assertFalse(record.confirmed, "unconfirmed");
        assertTrue(guardian.isPauseActive(address(target1)), "active");
        assertEq(_used(sentinelA), 1, "one unit used");
    }

    function test_pause_multipleTargets() public {
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.Paused(address(target1), INCIDENT, sentinelA, T0 + PAUSE_DURATION);
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.Paused(address(target2), INCIDENT, sentinelA, T0 + PAUSE_DURATION);
        vm.prank(sentinelA);
        guardian.pause(_list(address(target1), address(target2)), INCIDENT);
        assertTrue(target1.paused() && target2.paused(), "both paused");
        assertEq(_used(sentinelA), 2, "two units used");
    }

    function test_pause_customSelectors() public {
        _pauseAs(sentinelA, address(haltable), INCIDENT);
        assertTrue(haltable.halted(), "halted");
        assertEq(haltable.haltCalls(), 1, "halt called");
        assertTrue(guardian.isPauseActive(address(haltable)), "active");
    }

    function test_pause_proceedsWhenPausedProbeIsInconclusive() public {
        bytes[4] memory answers =
            [bytes(""), abi.encode(uint256(2)), abi.encode(true, true), abi.encodePacked(bytes31(0), bytes1(0x01))];
        for (uint256 i; i < answers.length; ++i) {
            MockOddPaused t = new MockOddPaused(answers[i]);
            vm.prank(governance);
            guardian.addTarget(address(t));
            vm.prank(governance);
            guardian.setSentinelBudget(sentinelA, 10);
            _pauseAs(sentinelA, address(t), INCIDENT);
            // The 31-zero-bytes-then-1 answer is a well-formed `true` only when exactly 32 bytes.
            bool wellFormedTrue = answers[i].length == 32 && uint256(bytes32(answers[i])) == 1;
            assertEq(t.pauseCalls(), wellFormedTrue ? 0 : 1, "pause called unless reported paused");
        }
    }

    // ---------------------------------------------------------------- pause: skips

    function test_pause_skipsActiveRecord() public {
        _pauseAs(sentinelA, address(target1), INCIDENT);

        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.PauseSkipped(address(target1), INCIDENT, sentinelB);
        _pauseAs(sentinelB, address(target1), INCIDENT);

        assertEq(_used(sentinelB), 0, "no budget consumed");
        assertEq(target1.pauseCalls(), 1, "not called again");
        assertEq(guardian.pauseOf(address(target1)).sentinel, sentinelA, "record untouched");
    }

    function test_pause_skipsConfirmedRecordEvenAfterExpiry() public {
        _pauseAs(sentinelA, address(target1), INCIDENT);
        vm.prank(governance);
        guardian.confirmPause(address(target1));
        vm.warp(T0 + 10 * PAUSE_DURATION);

        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.PauseSkipped(address(target1), INCIDENT2, sentinelB);
        _pauseAs(sentinelB, address(target1), INCIDENT2);
        assertEq(_used(sentinelB), 0, "no budget consumed");
        assertEq(guardian.pauseOf(address(target1)).incidentId, INCIDENT, "record untouched");
    }

    function test_pause_skipsTargetThatReportsPaused() public {
        target1.adminSetPaused(true);

        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.PauseSkipped(address(target1), INCIDENT, sentinelA);
        _pauseAs(sentinelA, address(target1), INCIDENT);

        assertEq(_used(sentinelA), 0, "no budget consumed");
        assertEq(target1.pauseCalls(), 0, "not called");
        assertEq(guardian.pauseOf(address(target1)).sentinel, address(0), "no record");
        assertFalse(guardian.isPauseActive(address(target1)), "not the Guardian's pause");
    }

    function test_pause_duplicateEntriesSkippedAfterFirst() public {
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.Paused(address(target1), INCIDENT, sentinelA, T0 + PAUSE_DURATION);
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.PauseSkipped(address(target1), INCIDENT, sentinelA);
        vm.prank(sentinelA);
        guardian.pause(_list(address(target1), address(target1)), INCIDENT);
        assertEq(_used(sentinelA), 1, "charged once");
        assertEq(target1.pauseCalls(), 1, "called once");
    }

    function test_pause_twoReplicasFiringTheSamePauseBothSucceed() public {
        _pauseAs(sentinelA, address(target1), INCIDENT);
        _pauseAs(sentinelA, address(target1), INCIDENT);
        assertEq(_used(sentinelA), 1, "second replica free");
    }

    // ---------------------------------------------------------------- pause: renewals

    function test_pause_renewsExpiredRecordOnStillPausedTarget() public {
        _pauseAs(sentinelA, address(target1), INCIDENT);
        uint64 renewAt = T0 + PAUSE_DURATION; // expired exactly now
        vm.warp(renewAt);
        assertFalse(guardian.isPauseActive(address(target1)), "expired");

        uint64 newExpiry = renewAt + PAUSE_DURATION;
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.Paused(address(target1), INCIDENT2, sentinelB, newExpiry);
        _pauseAs(sentinelB, address(target1), INCIDENT2);

        // MockPausable.pause() reverts when already paused: success proves it was not called again.
        assertEq(target1.pauseCalls(), 1, "pause not called again");
        Guardian.PauseRecord memory record = guardian.pauseOf(address(target1));
        assertEq(record.incidentId, INCIDENT2, "new incident");
        assertEq(record.sentinel, sentinelB, "renewing sentinel");
        assertEq(record.pausedAt, renewAt, "pausedAt renewed");
        assertEq(record.expiresAt, newExpiry, "new expiry");
        assertTrue(guardian.isPauseActive(address(target1)), "active again");
        assertEq(_used(sentinelB), 1, "renewal consumes budget");
    }

    function test_pause_renewalRepausesTargetUnpausedByOthers() public {
        _pauseAs(sentinelA, address(target1), INCIDENT);
        target1.adminSetPaused(false);
        vm.warp(T0 + PAUSE_DURATION);

        _pauseAs(sentinelA, address(target1), INCIDENT2);
        assertTrue(target1.paused(), "paused again");
        assertEq(target1.pauseCalls(), 2, "pause called again");
    }

    function test_pause_renewalCallsPauseWhenStateUnknown() public {
        _pauseAs(sentinelA, address(haltable), INCIDENT);
        vm.warp(T0 + PAUSE_DURATION + 1);
        _pauseAs(sentinelA, address(haltable), INCIDENT2);
        assertEq(haltable.haltCalls(), 2, "halt called again (no paused() view)");
        assertEq(guardian.pauseOf(address(haltable)).incidentId, INCIDENT2, "renewed");
    }

    // ---------------------------------------------------------------- pause: reverts

    function test_pause_revertsOnEmptyList() public {
        vm.prank(sentinelA);
        vm.expectRevert(abi.encodeWithSelector(Guardian.NoTargets.selector));
        guardian.pause(new address[](0), INCIDENT);
    }

    function test_pause_revertsForNonSentinels() public {
        address[] memory list = _list(address(target1));
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Guardian.NotSentinel.selector, stranger));
        guardian.pause(list, INCIDENT);
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(Guardian.NotSentinel.selector, governance));
        guardian.pause(list, INCIDENT);
    }

    function test_pause_revertsForUnregisteredTarget() public {
        MockPausable unregistered = new MockPausable(address(guardian));
        vm.prank(sentinelA);
        vm.expectRevert(abi.encodeWithSelector(Guardian.NotTarget.selector, address(unregistered)));
        guardian.pause(_list(address(target1), address(unregistered)), INCIDENT);
        assertFalse(target1.paused(), "whole call reverted");
    }

    function test_pause_revertsWhenBudgetExceeded() public {
        vm.prank(sentinelA);
        vm.expectRevert(abi.encodeWithSelector(Guardian.BudgetExceeded.selector, sentinelA, BUDGET));
        guardian.pause(_list(address(target1), address(target2), address(target3), address(target4)), INCIDENT);
        // Nothing happened: all-or-nothing.
        assertFalse(target1.paused(), "not paused");
        assertEq(_used(sentinelA), 0, "nothing consumed");
    }

    function test_pause_budgetAcrossCallsAndWindowReset() public {
        vm.prank(sentinelA);
        guardian.pause(_list(address(target1), address(target2)), INCIDENT);
        _pauseAs(sentinelA, address(target3), INCIDENT);
        (, uint32 used, uint64 windowEndsAt) = guardian.budgetOf(sentinelA);
        assertEq(used, BUDGET, "budget used up");

        vm.prank(sentinelA);
        vm.expectRevert(abi.encodeWithSelector(Guardian.BudgetExceeded.selector, sentinelA, BUDGET));
        guardian.pause(_list(address(target4)), INCIDENT);

        // Last second of the window: still exhausted.
        vm.warp(windowEndsAt - 1);
        vm.prank(sentinelA);
        vm.expectRevert(abi.encodeWithSelector(Guardian.BudgetExceeded.selector, sentinelA, BUDGET));
        guardian.pause(_list(address(target4)), INCIDENT);

        // Next window: usage reads as zero and the budget is available again.
        vm.warp(windowEndsAt);
        (, used,) = guardian.budgetOf(sentinelA);
        assertEq(used, 0, "stale window reads zero");
        _pauseAs(sentinelA, address(target4), INCIDENT);
        (, used, windowEndsAt) = guardian.budgetOf(sentinelA);
        assertEq(used, 1, "fresh window");
        assertEq(windowEndsAt, (T0 / WINDOW + 2) * WINDOW, "next window end");
    }

    function test_pause_budgetsArePerSentinel() public {
        vm.prank(sentinelA);
        guardian.pause(_list(address(target1), address(target2), address(target3)), INCIDENT);
        _pauseAs(sentinelB, address(target4), INCIDENT);
        assertEq(_used(sentinelA), 3, "A used");
        assertEq(_used(sentinelB), 1, "B used");
    }

    function test_pause_revertsWhenTargetCallFails() public {
        MockRevertingPause broken = new MockRevertingPause();
        vm.prank(governance);
        guardian.addTarget(address(broken));
        vm.prank(sentinelA);
        vm.expectRevert(
            abi.encodeWithSelector(
                Guardian.TargetCallFailed.selector,
                address(broken),
                abi.encodeWithSelector(MockRevertingPause.Broken.selector, uint256(42))
            )
        );
        guardian.pause(_list(address(target1), address(broken)), INCIDENT);
        assertFalse(target1.paused(), "whole call reverted");
        assertEq(guardian.pauseOf(address(broken)).sentinel, address(0), "no record");
    }

    function test_pause_revertsWhenGuardianLacksTheRole() public {
        MockPausable foreign = new MockPausable(stranger); // does not trust the Guardian
        vm.prank(governance);
        guardian.addTarget(address(foreign));
        vm.prank(sentinelA);
        vm.expectRevert(
            abi.encodeWithSelector(
                Guardian.TargetCallFailed.selector,
                address(foreign),
                abi.encodeWithSelector(MockPausable.NotGuardian.selector)
            )
        );
        guardian.pause(_list(address(foreign)), INCIDENT);
    }

    // ---------------------------------------------------------------- confirmPause

    function test_confirmPause() public {
        _pauseAs(sentinelA, address(target1), INCIDENT);
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.PauseConfirmed(address(target1), INCIDENT);
        vm.prank(governance);
        guardian.confirmPause(address(target1));

        assertTrue(guardian.pauseOf(address(target1)).confirmed, "confirmed");
        vm.warp(T0 + 365 days);
        assertTrue(guardian.isPauseActive(address(target1)), "never expires");
    }

    function test_confirmPause_acceptsExpiredButUnliftedRecord() public {
        _pauseAs(sentinelA, address(target1), INCIDENT);
        vm.warp(T0 + PAUSE_DURATION + 1);
        assertFalse(guardian.isPauseActive(address(target1)), "expired");
        vm.prank(governance);
        guardian.confirmPause(address(target1));
        assertTrue(guardian.isPauseActive(address(target1)), "active again once confirmed");
    }

    function test_confirmPause_revertsWithoutRecord() public {
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(Guardian.NotPaused.selector, address(target1)));
        guardian.confirmPause(address(target1));
    }

    // ---------------------------------------------------------------- liftPause

    function test_liftPause_byGovernanceBeforeExpiry() public {
        _pauseAs(sentinelA, address(target1), INCIDENT);
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.PauseLifted(address(target1), INCIDENT, governance);
        vm.prank(governance);
        guardian.liftPause(address(target1));

        assertFalse(target1.paused(), "unpaused");
        assertEq(target1.unpauseCalls(), 1, "unpause called");
        assertEq(guardian.pauseOf(address(target1)).sentinel, address(0), "record deleted");
        assertFalse(guardian.isPauseActive(address(target1)), "inactive");
    }

    function test_liftPause_byGovernanceWhenConfirmed() public {
        _pauseAs(sentinelA, address(target1), INCIDENT);
        vm.startPrank(governance);
        guardian.confirmPause(address(target1));
        guardian.liftPause(address(target1));
        vm.stopPrank();
        assertFalse(target1.paused(), "unpaused");
    }

    function test_liftPause_byAnyoneOnceExpired() public {
        _pauseAs(sentinelA, address(target1), INCIDENT);
        uint64 expiresAt = T0 + PAUSE_DURATION;

        vm.warp(expiresAt - 1);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Guardian.PauseNotExpired.selector, address(target1), expiresAt));
        guardian.liftPause(address(target1));

        vm.warp(expiresAt);
        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.PauseLifted(address(target1), INCIDENT, stranger);
        vm.prank(stranger);
        guardian.liftPause(address(target1));
        assertFalse(target1.paused(), "unpaused");
    }

    function test_liftPause_confirmedRefusedForOthers() public {
        _pauseAs(sentinelA, address(target1), INCIDENT);
        vm.prank(governance);
        guardian.confirmPause(address(target1));
        vm.warp(T0 + 10 * PAUSE_DURATION);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Guardian.Unauthorized.selector));
        guardian.liftPause(address(target1));
        vm.prank(sentinelA);
        vm.expectRevert(abi.encodeWithSelector(Guardian.Unauthorized.selector));
        guardian.liftPause(address(target1));
    }

    function test_liftPause_revertsWithoutRecord() public {
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(Guardian.NotPaused.selector, address(target1)));
        guardian.liftPause(address(target1));
        // A target paused by someone else is not the Guardian's to lift.
        target2.adminSetPaused(true);
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(Guardian.NotPaused.selector, address(target2)));
        guardian.liftPause(address(target2));
    }

    function test_liftPause_customSelectors() public {
        _pauseAs(sentinelA, address(haltable), INCIDENT);
        vm.prank(governance);
        guardian.liftPause(address(haltable));
        assertFalse(haltable.halted(), "resumed");
        assertEq(haltable.resumeCalls(), 1, "resume called");
    }

    function test_liftPause_bubblesUnpauseFailure() public {
        _pauseAs(sentinelA, address(target1), INCIDENT);
        target1.setUnpauseBlocked(true);
        vm.prank(governance);
        vm.expectRevert(
            abi.encodeWithSelector(
                Guardian.TargetCallFailed.selector,
                address(target1),
                abi.encodeWithSelector(MockPausable.UnpauseBlocked.selector)
            )
        );
        guardian.liftPause(address(target1));
        assertTrue(guardian.isPauseActive(address(target1)), "record kept");
    }

    function test_liftPause_toleratesTargetAlreadyUnpausedByOthers() public {
        // Confirmed pause, then the protocol's own admin unpauses directly: without tolerance the
        // record could never be lifted (unpause() reverts) and the target never removed/re-paused.
        _pauseAs(sentinelA, address(target1), INCIDENT);
        vm.prank(governance);
        guardian.confirmPause(address(target1));
        target1.adminSetPaused(false);

        vm.expectEmit(true, true, true, true, address(guardian));
        emit Guardian.PauseLifted(address(target1), INCIDENT, governance);
        vm.prank(governance);
        guardian.liftPause(address(target1));
        assertEq(guardian.pauseOf(address(target1)).sentinel, address(0), "record deleted");

        _pauseAs(sentinelA, address(target1), INCIDENT2);
        assertTrue(target1.paused(), "can be paused again");
    }

    // ---------------------------------------------------------------- reentrancy

    function test_reentrancy_pauseCannotReenterPause() public {
        MockReentrant evil = new MockReentrant(address(guardian));
        vm.startPrank(governance);
        guardian.addTarget(address(evil));
        guardian.addSentinel(address(evil), 10); // worst case: even a sentinel cannot re-enter
        vm.stopPrank();
        evil.configure(abi.encodeCall(Guardian.pause, (_list(address(target1)), INCIDENT)), false);

        _pauseAs(sentinelA, address(evil), INCIDENT);
        assertTrue(evil.reentryAttempted(), "attempted");
        assertFalse(evil.reentrySucceeded(), "re-entry refused");
        assertEq(
            keccak256(evil.reentryRevertData()),
            keccak256(abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector)),
            "by the reentrancy guard"
        );
        assertFalse(target1.paused(), "nested pause did not happen");
    }

    function test_reentrancy_bubbledAsTargetCallFailed() public {
        MockReentrant evil = new MockReentrant(address(guardian));
        vm.startPrank(governance);
        guardian.addTarget(address(evil));
        guardian.addSentinel(address(evil), 10);
        vm.stopPrank();
        evil.configure(abi.encodeCall(Guardian.pause, (_list(address(target1)), INCIDENT)), true);

        vm.prank(sentinelA);
        vm.expectRevert(
            abi.encodeWithSelector(
                Guardian.TargetCallFailed.selector,
                address(evil),
                abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector)
            )
        );
        guardian.pause(_list(address(evil)), INCIDENT);
    }

    function test_reentrancy_unpauseCannotReenterLift() public {
        MockReentrant evil = new MockReentrant(address(guardian));
        vm.prank(governance);
        guardian.addTarget(address(evil));
        vm.prank(sentinelA);
        guardian.pause(_list(address(evil), address(target1)), INCIDENT);
        vm.warp(T0 + PAUSE_DURATION); // target1's pause is now liftable by anyone
        evil.configure(abi.encodeCall(Guardian.liftPause, (address(target1))), false);

        vm.prank(stranger);
        guardian.liftPause(address(evil));
        assertTrue(evil.reentryAttempted(), "attempted");
        assertFalse(evil.reentrySucceeded(), "re-entry refused");
        assertTrue(target1.paused(), "nested lift did not happen");
    }

    // ---------------------------------------------------------------- views

    function test_views_defaults() public view {
        Guardian.PauseRecord memory record = guardian.pauseOf(address(target1));
        assertEq(record.incidentId, bytes32(0), "zero incident");
        assertEq(record.sentinel, address(0), "zero sentinel");
        assertEq(record.pausedAt, 0, "zero pausedAt");
        assertEq(record.expiresAt, 0, "zero expiresAt");
        assertFalse(record.confirmed, "unconfirmed");
        assertFalse(guardian.isPauseActive(address(target1)), "inactive");
        assertFalse(guardian.isSentinel(stranger), "not sentinel");
        assertFalse(guardian.isTarget(stranger), "not target");
        (uint32 budget, uint32 used,) = guardian.budgetOf(stranger);
        assertEq(budget, 0, "no budget");
        assertEq(used, 0, "no usage");
    }

    function test_isPauseActive_followsExpiry() public {
        _pauseAs(sentinelA, address(target1), INCIDENT);
        vm.warp(T0 + PAUSE_DURATION - 1);
        assertTrue(guardian.isPauseActive(address(target1)), "active until expiresAt");
        vm.warp(T0 + PAUSE_DURATION);
        assertFalse(guardian.isPauseActive(address(target1)), "inactive from expiresAt");
        assertEq(guardian.pauseOf(address(target1)).sentinel, sentinelA, "but still recorded");
    }

    // ---------------------------------------------------------------- no funds

    function testFuzz_rejectsEther(bytes calldata data, uint256 value) public {
        value = bound(value, 1, 100 ether);
        vm.deal(address(this), value);
        (bool ok,) = address(guardian).call{value: value}(data);
        assertFalse(ok, "no payable entry point");
        vm.deal(sentinelA, value);
        vm.prank(sentinelA);
        (ok,) =
            address(guardian).call{value: value}(abi.encodeCall(Guardian.pause, (_list(address(target1)), INCIDENT)));
        assertFalse(ok, "pause is not payable");
        assertEq(address(guardian).balance, 0, "no ETH held");
    }

    // ---------------------------------------------------------------- access control fuzz

    /// @dev Calls every governance-only function as `caller` and expects `Unauthorized()`.
    function _expectAllGovernanceFunctionsRefused(address caller) internal {
        bytes memory unauthorized = abi.encodeWithSelector(Guardian.Unauthorized.selector);
        MockPausable fresh = new MockPausable(address(guardian));

        vm.prank(caller);
        vm.expectRevert(unauthorized);
        guardian.transferGovernance(caller);

        vm.prank(caller);
        vm.expectRevert(unauthorized);
        guardian.addSentinel(caller, 1000);

        vm.prank(caller);
        vm.expectRevert(unauthorized);
        guardian.removeSentinel(sentinelB);

        vm.prank(caller);
        vm.expectRevert(unauthorized);
        guardian.setSentinelBudget(sentinelA, type(uint32).max);

        vm.prank(caller);
        vm.expectRevert(unauthorized);
        guardian.setBudgetWindow(60);

        vm.prank(caller);
        vm.expectRevert(unauthorized);
        guardian.setMaxPauseDuration(30 days);

        vm.prank(caller);
        vm.expectRevert(unauthorized);
        guardian.addTarget(address(fresh));

        vm.prank(caller);
        vm.expectRevert(unauthorized);
        guardian.addTarget(address(fresh), MockHaltable.halt.selector, MockHaltable.resume.selector);

        vm.prank(caller);
        vm.expectRevert(unauthorized);
        guardian.removeTarget(address(target4));

        vm.prank(caller);
        vm.expectRevert(unauthorized);
        guardian.confirmPause(address(target1));

        vm.prank(caller);
        vm.expectRevert(unauthorized);
        guardian.acceptGovernance();
    }

    function _assertSettingsUnchanged() internal view {
        assertEq(guardian.governance(), governance, "governance");
        assertEq(guardian.pendingGovernance(), address(0), "pending");
        assertEq(guardian.maxPauseDuration(), PAUSE_DURATION, "duration");
        assertEq(guardian.budgetWindow(), WINDOW, "window");
        assertEq(guardian.sentinels().length, 2, "sentinels");
        assertEq(guardian.targets().length, 5, "targets");
        (uint32 budgetA,,) = guardian.budgetOf(sentinelA);
        assertEq(budgetA, BUDGET, "budget A");
        assertFalse(guardian.pauseOf(address(target1)).confirmed, "not confirmed");
    }

    function testFuzz_nonGovernanceCannotGovern(address caller) public {
        vm.assume(caller != governance);
        _pauseAs(sentinelA, address(target1), INCIDENT); // something to confirm
        _expectAllGovernanceFunctionsRefused(caller);
        _assertSettingsUnchanged();
    }

    function testFuzz_nonSentinelCannotPause(address caller, uint256 which) public {
        vm.assume(caller != sentinelA && caller != sentinelB);
        address[] memory all = guardian.targets();
        address target = all[bound(which, 0, all.length - 1)];
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(Guardian.NotSentinel.selector, caller));
        guardian.pause(_list(target), INCIDENT);
        assertFalse(guardian.isPauseActive(target), "nothing paused");
    }

    function testFuzz_sentinelCannotGovernOrLiftEarly(bool useB, uint256 elapsed) public {
        address sentinel = useB ? sentinelB : sentinelA;
        _pauseAs(sentinelA, address(target1), INCIDENT);
        _pauseAs(sentinelA, address(target2), INCIDENT);
        vm.prank(governance);
        guardian.confirmPause(address(target2));
        _pauseAs(sentinelA, address(target1), INCIDENT); // skipped, keeps the record
        _expectAllGovernanceFunctionsRefused(sentinel);

        elapsed = bound(elapsed, 0, PAUSE_DURATION - 1);
        vm.warp(T0 + elapsed);
        vm.prank(sentinel);
        vm.expectRevert(
            abi.encodeWithSelector(Guardian.PauseNotExpired.selector, address(target1), T0 + PAUSE_DURATION)
        );
        guardian.liftPause(address(target1));

        vm.prank(sentinel);
        vm.expectRevert(abi.encodeWithSelector(Guardian.Unauthorized.selector));
        guardian.liftPause(address(target2));

        assertTrue(target1.paused() && target2.paused(), "still paused");
        assertEq(guardian.governance(), governance, "governance");
        assertEq(guardian.sentinels().length, 2, "sentinels");
        assertEq(guardian.targets().length, 5, "targets");
    }

    // ---------------------------------------------------------------- budget fuzz

    /// @dev Random sequence of pause attempts (1-3 targets each) and time jumps against a model.
    /// Targets are lifted by governance after each successful pause so they can be reused; that
    /// does not give budget back.
    function testFuzz_budgetNeverExceededAndWindowResets(uint256 seed, uint32 budget) public {
        budget = uint32(bound(budget, 1, 4));
        vm.prank(governance);
        guardian.setSentinelBudget(sentinelA, budget);
        address[4] memory pool = [address(target1), address(target2), address(target3), address(target4)];

        uint256 modelWindow = block.timestamp / WINDOW;
        uint256 modelUsed;
        for (uint256 step; step < 24; ++step) {
            uint256 rand = uint256(keccak256(abi.encode(seed, step)));
            if (rand % 4 == 0) {
                vm.warp(block.timestamp + bound(rand >> 8, 1, WINDOW));
                // forge-lint: disable-next-line(block-timestamp)
                if (block.timestamp / WINDOW != modelWindow) {
                    modelWindow = block.timestamp / WINDOW;
                    modelUsed = 0;
                }
                continue;
            }
            uint256 k = bound(rand >> 8, 1, 3);
            uint256 first = (rand >> 16) % 4;
            address[] memory list = new address[](k);
            for (uint256 j; j < k; ++j) {
                list[j] = pool[(first + j) % 4];
            }

            bool expectSuccess = modelUsed + k <= budget;
            vm.prank(sentinelA);
            try guardian.pause(list, bytes32(step)) {
                assertTrue(expectSuccess, "succeeded beyond budget");
                modelUsed += k;
                vm.startPrank(governance);
                for (uint256 j; j < k; ++j) {
                    guardian.liftPause(list[j]);
                }
                vm.stopPrank();
            } catch (bytes memory err) {
                assertFalse(expectSuccess, "refused within budget");
                assertEq(
                    keccak256(err),
                    keccak256(abi.encodeWithSelector(Guardian.BudgetExceeded.selector, sentinelA, budget)),
                    "BudgetExceeded"
                );
            }
            (uint32 b, uint32 used, uint64 windowEndsAt) = guardian.budgetOf(sentinelA);
            assertEq(used, modelUsed, "usage matches model");
            assertLe(used, b, "usage within budget");
            assertEq(windowEndsAt, (modelWindow + 1) * WINDOW, "window end");
        }
    }
}
