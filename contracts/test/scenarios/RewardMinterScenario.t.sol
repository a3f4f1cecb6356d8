// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ScenarioFixture} from "./ScenarioFixture.sol";
import {FlashFunded} from "../../src/scenarios/common/FlashFunded.sol";
import {RewardMinterAttacker} from "../../src/scenarios/attacks/RewardMinterAttacker.sol";
import {CloneRunner} from "../../src/scenarios/attacks/CloneRunner.sol";

/// @notice Pattern 5 (PancakeBunny) against RewardMinter (alice staked 100 STK; 1 RWD per USD of
/// profit) priced by USD/STK 20M/10,000, rewards dumped into USD/RWD 500k/500k.
/// Attack: buy STK with 10M USD (STK spot x~2.2), stake 80%, send 20% in as fees, claim, unstake,
/// sell back, dump RWD: 10M USD of capital.
contract RewardMinterScenarioTest is ScenarioFixture {
    uint256 internal constant BUY = 10_000_000 * USD;
    uint256 internal constant DONATE_BPS = 2_000;

    RewardMinterAttacker internal attacker;

    function setUp() public override {
        super.setUp();
        vm.prank(attackerEoa);
        attacker = new RewardMinterAttacker();
    }

    function _params() internal view returns (RewardMinterAttacker.Params memory) {
        return RewardMinterAttacker.Params({minter: minter, rewardPool: rewardPool, buyAmount: BUY, donateBps: DONATE_BPS});
    }

    /// @dev Rewards minted far beyond the reward pool's depth; its USD mostly drained; the minter
    /// itself still holds alice's stake.
    function _assertExploited(uint256 rwdSupplyBefore, uint256 poolUsdBefore, uint256 profit, address worker)
        internal
        view
    {
        assertGt(rwd.totalSupply(), rwdSupplyBefore * 3, "reward supply more than tripled");
        vm.assertLt(reserveOf(rewardPool, address(usd)), poolUsdBefore / 2, "reward pool lost > 50% of its USD");
        assertGt(profit, poolUsdBefore / 4, "profit > 25% of the pool's USD");
        assertEq(minter.sharesOf(worker), 0, "fully unstaked");
        assertEq(usd.balanceOf(worker), 0, "attack contract empty");
        assertGe(stk.balanceOf(address(minter)), 100 * STK, "alice's stake still there");
    }

    function test_everyFundingSource_mintsAndDumps() public {
        uint256 supplyBefore = rwd.totalSupply();
        uint256 poolUsdBefore = reserveOf(rewardPool, address(usd));
        for (uint8 s = 0; s < sourceCount(); ++s) {
            uint256 snap = vm.snapshotState();
            FlashFunded.Source src = FlashFunded.Source(s);
            FlashFunded.Funding memory f = usdFunding(src, BUY, address(attacker));
            vm.prank(attackerEoa);
            attacker.execute(f, _params());
            _assertExploited(supplyBefore, poolUsdBefore, netProfit(src, BUY), address(attacker));
            vm.revertToState(snap);
        }
    }

    /// @dev The attack logic behind an EIP-1167 clone created in the attack transaction.
    function test_cloneRunner_minimalProxy_withErc3156Loan() public {
        uint256 supplyBefore = rwd.totalSupply();
        uint256 poolUsdBefore = reserveOf(rewardPool, address(usd));
        CloneRunner runner = new CloneRunner();
        FlashFunded.Funding memory f = usdFunding(FlashFunded.Source.ERC3156, BUY, address(0));
        IERC20[] memory sweep = new IERC20[](1);
        sweep[0] = IERC20(address(usd));

        vm.prank(attackerEoa);
        address clone = runner.run(address(attacker), abi.encodeCall(RewardMinterAttacker.execute, (f, _params())), sweep);

        assertEq(clone.code.length, 45, "EIP-1167 proxy");
        assertEq(RewardMinterAttacker(clone).owner(), address(runner), "clone claimed by the runner");
        _assertExploited(supplyBefore, poolUsdBefore, usd.balanceOf(attackerEoa), clone);
        vm.expectRevert(FlashFunded.AlreadyInitialized.selector);
        RewardMinterAttacker(clone).initialize(address(this));
        vm.expectRevert(FlashFunded.AlreadyInitialized.selector);
        attacker.initialize(address(this));
    }

    function test_paused_attackReverts() public {
        vm.prank(guardian);
        minter.pause();
        uint256 supplyBefore = rwd.totalSupply();
        for (uint8 s = 0; s < sourceCount(); ++s) {
            FlashFunded.Funding memory f = usdFunding(FlashFunded.Source(s), BUY, address(attacker));
            vm.expectRevert(Pausable.EnforcedPause.selector);
            vm.prank(attackerEoa);
            attacker.execute(f, _params());
        }
        assertEq(rwd.totalSupply(), supplyBefore, "nothing minted");
    }

    /// @dev Benign: a keeper feeds 5 STK of fees over a few blocks; alice claims a reward worth
    /// those fees at the honest price (~10k RWD), then a big staker comes and goes.
    function test_benign_feesClaimAndLargeStake() public {
        stk.mint(keeper, 5 * STK);
        vm.startPrank(keeper);
        stk.approve(address(minter), 5 * STK);
        minter.distributeFees(5 * STK);
        vm.stopPrank();
        vm.roll(block.number + 5);

        vm.prank(alice);
        (uint256 profit, uint256 reward) = minter.claim();
        assertGe(profit + 1, 5 * STK, "alice got the fees");
        assertGe(reward, 9_900 * RWD, "reward at ~2,000 USD/STK");
        assertLe(reward, 10_000 * RWD, "not more");

        stk.mint(bob, 1_000 * STK);
        vm.startPrank(bob);
        stk.approve(address(minter), type(uint256).max);
        uint256 shares = minter.stake(1_000 * STK);
        vm.roll(block.number + 5);
        uint256 out = minter.unstake(shares);
        vm.stopPrank();
        assertGe(out + 1, 1_000 * STK, "bob whole");
        assertGe(stk.balanceOf(address(minter)) + 1, 100 * STK, "alice's stake intact");
    }
}
