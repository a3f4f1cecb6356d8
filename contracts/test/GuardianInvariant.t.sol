// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test, Vm} from "./base/Test.sol";
import {Guardian} from "../src/Guardian.sol";
import {MockPausable, MockHaltable} from "./Guardian.t.sol";

/// @notice Drives the Guardian the way sentinel keys can: pausing with random inputs, attempting
/// every forbidden call (which must revert), plus time passing and a keeper lifting expired pauses
/// (permissionless, not a sentinel power). Ghost variables record any violation.
contract SentinelHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    Guardian public immutable guardian;
    address public constant KEEPER = address(0x4EE9E5);
    address public immutable unregistered;

    address[] internal _sentinels;
    address[] internal _targets;
    mapping(address sentinel => uint32) public initialBudget;

    /// Targets paused by each sentinel per budget window, counted from `Paused` events.
    mapping(address sentinel => mapping(uint256 window => uint256)) public ghostPausedInWindow;
    bool public ghostBudgetExceeded;
    bool public ghostSentinelUnpaused;
    bool public ghostForbiddenCallSucceeded;

    // Call statistics, to check the run exercised the interesting paths.
    uint256 public ghostPauseApplied;
    uint256 public ghostPauseSkipped;
    uint256 public ghostPauseReverted;
    uint256 public ghostForbiddenAttempts;
    uint256 public ghostKeeperLifts;

    constructor(Guardian guardian_, address[] memory sentinels_, address[] memory targets_, address unregistered_) {
        guardian = guardian_;
        _sentinels = sentinels_;
        _targets = targets_;
        unregistered = unregistered_;
        for (uint256 i; i < sentinels_.length; ++i) {
            (initialBudget[sentinels_[i]],,) = guardian_.budgetOf(sentinels_[i]);
        }
    }

    // ---------------------------------------------------------------- actions

    /// @notice A sentinel pauses 1-4 targets (duplicates and, rarely, an unregistered one included).
    function pause(uint256 sentinelSeed, uint256 targetSeed, uint256 count, bytes32 incidentId) external {
        address sentinel = _sentinels[sentinelSeed % _sentinels.length];
        count = 1 + count % 4;
        address[] memory list = new address[](count);
        for (uint256 i; i < count; ++i) {
            uint256 pick = (targetSeed >> (8 * i)) % (_targets.length * 8 + 1);
            list[i] = pick == _targets.length * 8 ? unregistered : _targets[pick % _targets.length];
        }

        bool[] memory before = _pausedStates();
        vm.recordLogs();
        vm.prank(sentinel);
        try guardian.pause(list, incidentId) {
            _countEvents(sentinel);
        } catch {
            vm.getRecordedLogs(); // discard
            ++ghostPauseReverted;
        }
        _checkNothingUnpaused(before);
    }

    /// @notice A sentinel tries one of the calls it must never be able to make.
    function attemptForbidden(uint256 sentinelSeed, uint256 which, uint256 arg) external {
        address sentinel = _sentinels[sentinelSeed % _sentinels.length];
        address target = _targets[arg % _targets.length];
        which %= 14;
        if (which == 11 && _liftableByAnyone(target)) return; // lifting expired pauses is permissionless

        (bytes memory data, uint256 value) = _forbiddenCall(which, sentinel, target, arg);
        ++ghostForbiddenAttempts;
        bool[] memory before = _pausedStates();
        if (value != 0) vm.deal(sentinel, value);
        vm.prank(sentinel);
        (bool ok,) = address(guardian).call{value: value}(data);
        if (ok) ghostForbiddenCallSucceeded = true;
        _checkNothingUnpaused(before);
    }

    /// @notice Time passes (up to two days; windows are one hour, pauses last three hours).
    function warp(uint256 secondsElapsed) external {
        vm.warp(block.timestamp + secondsElapsed % 2 days);
    }

    /// @notice A non-sentinel keeper lifts an expired, unconfirmed pause (permissionless), if any.
    function keeperLift(uint256 targetSeed) external {
        uint256 n = _targets.length;
        for (uint256 i; i < n; ++i) {
            address target = _targets[(targetSeed % n + i) % n];
            if (!_liftableByAnyone(target)) continue;
            vm.prank(KEEPER);
            guardian.liftPause(target);
            ++ghostKeeperLifts;
            return;
        }
    }

    // ---------------------------------------------------------------- views for the invariants

    function sentinelList() external view returns (address[] memory) {
        return _sentinels;
    }

    function targetList() external view returns (address[] memory) {
        return _targets;
    }

    function isTargetPaused(address target) public view returns (bool) {
        (bool ok, bytes memory ret) = target.staticcall(abi.encodeWithSignature("paused()"));
        if (ok && ret.length == 32) return abi.decode(ret, (bool));
        return MockHaltable(target).halted();
    }

    // ---------------------------------------------------------------- internals

    function _countEvents(address sentinel) private {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 paused;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(guardian)) continue;
            if (logs[i].topics[0] == Guardian.Paused.selector) {
                if (logs[i].topics[3] == bytes32(uint256(uint160(sentinel)))) ++paused;
            } else if (logs[i].topics[0] == Guardian.PauseSkipped.selector) {
                ++ghostPauseSkipped;
            }
        }
        ghostPauseApplied += paused;
        uint256 window = block.timestamp / guardian.budgetWindow();
        uint256 total = ghostPausedInWindow[sentinel][window] + paused;
        ghostPausedInWindow[sentinel][window] = total;
        if (total > initialBudget[sentinel]) ghostBudgetExceeded = true;
    }

    function _pausedStates() private view returns (bool[] memory states) {
        states = new bool[](_targets.length);
        for (uint256 i; i < _targets.length; ++i) {
            states[i] = isTargetPaused(_targets[i]);
        }
    }

    function _checkNothingUnpaused(bool[] memory before) private {
        for (uint256 i; i < _targets.length; ++i) {
            if (before[i] && !isTargetPaused(_targets[i])) ghostSentinelUnpaused = true;
        }
    }

    function _liftableByAnyone(address target) private view returns (bool) {
        Guardian.PauseRecord memory record = guardian.pauseOf(target);
        // forge-lint: disable-next-line(block-timestamp)
        return record.sentinel != address(0) && !record.confirmed && block.timestamp >= record.expiresAt;
    }

    /// @dev Calldata and ETH value of forbidden call number `which` (0-13) for `sentinel`.
    function _forbiddenCall(uint256 which, address sentinel, address target, uint256 arg)
        private
        view
        returns (bytes memory data, uint256 value)
    {
        if (which == 0) return (abi.encodeCall(Guardian.transferGovernance, (sentinel)), 0);
        if (which == 1) return (abi.encodeCall(Guardian.acceptGovernance, ()), 0);
        if (which == 2) {
            // Truncating the random `arg` is the point: any address, any budget.
            // forge-lint: disable-next-line(unsafe-typecast)
            return (abi.encodeCall(Guardian.addSentinel, (address(uint160(arg | 1)), uint32(arg))), 0);
        }
        if (which == 3) return (abi.encodeCall(Guardian.removeSentinel, (_sentinels[arg % _sentinels.length])), 0);
        if (which == 4) return (abi.encodeCall(Guardian.setSentinelBudget, (sentinel, type(uint32).max)), 0);
        // A valid value, so only authorization can refuse it; < 30 days + 60 fits in uint64.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 duration = uint64(60 + arg % 30 days);
        if (which == 5) return (abi.encodeCall(Guardian.setBudgetWindow, (duration)), 0);
        if (which == 6) return (abi.encodeCall(Guardian.setMaxPauseDuration, (duration)), 0);
        if (which == 7) return (abi.encodeWithSignature("addTarget(address)", unregistered), 0);
        if (which == 8) {
            bytes memory call = abi.encodeWithSignature(
                "addTarget(address,bytes4,bytes4)", unregistered, bytes4(0x11111111), bytes4(0x22222222)
            );
            return (call, 0);
        }
        if (which == 9) return (abi.encodeCall(Guardian.removeTarget, (target)), 0);
        if (which == 10) return (abi.encodeCall(Guardian.confirmPause, (target)), 0);
        if (which == 11) return (abi.encodeCall(Guardian.liftPause, (target)), 0);
        if (which == 12) return ("", 1 + arg % 1 ether); // plain ETH transfer
        return (abi.encodeCall(Guardian.pause, (_single(target), bytes32(arg))), 1 + arg % 1 ether); // paid pause
    }

    function _single(address target) private pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = target;
    }
}

contract GuardianInvariantTest is Test {
    address internal constant GOVERNANCE = address(0x6000);

    Guardian internal guardian;
    SentinelHandler internal handler;
    MockPausable internal confirmedTarget;

    // Snapshot of everything sentinels must not be able to change.
    bytes32 internal sentinelsHash;
    bytes32 internal targetsHash;
    bytes32 internal configsHash;
    bytes32 internal budgetsHash;

    function setUp() public {
        vm.warp(1_700_000_000);
        guardian = new Guardian(GOVERNANCE, 3 hours, 1 hours);

        address[] memory sentinels = new address[](3);
        sentinels[0] = address(0x5E01);
        sentinels[1] = address(0x5E02);
        sentinels[2] = address(0x5E03);
        address[] memory targets = new address[](5);

        vm.startPrank(GOVERNANCE);
        guardian.addSentinel(sentinels[0], 1);
        guardian.addSentinel(sentinels[1], 2);
        guardian.addSentinel(sentinels[2], 4);
        for (uint256 i; i < 4; ++i) {
            targets[i] = address(new MockPausable(address(guardian)));
            guardian.addTarget(targets[i]);
        }
        targets[4] = address(new MockHaltable(address(guardian)));
        guardian.addTarget(targets[4], MockHaltable.halt.selector, MockHaltable.resume.selector);
        vm.stopPrank();

        handler = new SentinelHandler(guardian, sentinels, targets, address(new MockPausable(address(guardian))));

        // One pause that governance confirmed: it must survive the whole run.
        confirmedTarget = MockPausable(targets[0]);
        handler.pause(0, 0, 0, keccak256("confirmed incident"));
        vm.prank(GOVERNANCE);
        guardian.confirmPause(targets[0]);

        sentinelsHash = keccak256(abi.encode(guardian.sentinels()));
        targetsHash = keccak256(abi.encode(guardian.targets()));
        configsHash = _configsHash();
        budgetsHash = _budgetsHash();

        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](4);
        selectors[0] = SentinelHandler.pause.selector;
        selectors[1] = SentinelHandler.attemptForbidden.selector;
        selectors[2] = SentinelHandler.warp.selector;
        selectors[3] = SentinelHandler.keeperLift.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// (1) Sentinel actions never unpause a target nor change any setting.
    function invariant_sentinelsCannotUnpauseOrChangeSettings() public view {
        assertFalse(handler.ghostSentinelUnpaused(), "a sentinel action unpaused a target");
        assertFalse(handler.ghostForbiddenCallSucceeded(), "a forbidden sentinel call succeeded");
        assertEq(guardian.governance(), GOVERNANCE, "governance");
        assertEq(guardian.pendingGovernance(), address(0), "pendingGovernance");
        assertEq(guardian.maxPauseDuration(), 3 hours, "maxPauseDuration");
        assertEq(guardian.budgetWindow(), 1 hours, "budgetWindow");
        assertEq(keccak256(abi.encode(guardian.sentinels())), sentinelsHash, "sentinel set");
        assertEq(keccak256(abi.encode(guardian.targets())), targetsHash, "target set");
        assertEq(_configsHash(), configsHash, "target configs");
        assertEq(_budgetsHash(), budgetsHash, "budgets");
        // The governance-confirmed pause can only be lifted by governance.
        assertTrue(confirmedTarget.paused(), "confirmed target unpaused");
        assertTrue(guardian.pauseOf(address(confirmedTarget)).confirmed, "confirmed record changed");
    }

    /// (2) No sentinel ever pauses more targets in a window than its budget.
    function invariant_budgetNeverExceeded() public view {
        assertFalse(handler.ghostBudgetExceeded(), "ghost: budget exceeded in some window");
        address[] memory sentinels = handler.sentinelList();
        for (uint256 i; i < sentinels.length; ++i) {
            (uint32 budget, uint32 used,) = guardian.budgetOf(sentinels[i]);
            assertLe(used, budget, "usage above budget");
        }
    }

    /// (3) The Guardian never holds ETH.
    function invariant_holdsNoEther() public view {
        assertEq(address(guardian).balance, 0, "Guardian holds ETH");
    }

    /// Every recorded pause belongs to a paused target (records never outlive a sentinel-visible
    /// unpause, since only lifts, which delete the record, unpause).
    function invariant_recordsMatchTargetState() public view {
        address[] memory targets = handler.targetList();
        for (uint256 i; i < targets.length; ++i) {
            if (guardian.pauseOf(targets[i]).sentinel != address(0)) {
                assertTrue(handler.isTargetPaused(targets[i]), "recorded pause on unpaused target");
            }
        }
    }

    function _configsHash() internal view returns (bytes32 h) {
        address[] memory targets = guardian.targets();
        for (uint256 i; i < targets.length; ++i) {
            (bytes4 p, bytes4 u) = guardian.targetConfig(targets[i]);
            h = keccak256(abi.encode(h, targets[i], p, u));
        }
    }

    function _budgetsHash() internal view returns (bytes32 h) {
        address[] memory sentinels = guardian.sentinels();
        for (uint256 i; i < sentinels.length; ++i) {
            (uint32 budget,,) = guardian.budgetOf(sentinels[i]);
            h = keccak256(abi.encode(h, sentinels[i], budget));
        }
    }
}
