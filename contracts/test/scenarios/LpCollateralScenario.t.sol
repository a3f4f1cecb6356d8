// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ScenarioFixture} from "./ScenarioFixture.sol";
import {FlashFunded} from "../../src/scenarios/common/FlashFunded.sol";
import {LpCollateralAttacker} from "../../src/scenarios/attacks/LpCollateralAttacker.sol";

/// @notice Pattern 4 (Warp) against LpCollateralLender (1M USD liquidity) on the USD/COLL pair
/// (1M USD / 1,000 COLL). Attack: 200k USD turned into posted LP, then a pump contract swaps 8M USD
/// into the pair (the LP price x~8), borrow everything, swap back: 8.2M USD of capital.
contract LpCollateralScenarioTest is ScenarioFixture {
    uint256 internal constant SEED = 200_000 * USD;
    uint256 internal constant PUMP = 8_000_000 * USD;

    LpCollateralAttacker internal attacker;

    function setUp() public override {
        super.setUp();
        vm.prank(attackerEoa);
        attacker = new LpCollateralAttacker();
    }

    function _params(uint256 seed) internal view returns (LpCollateralAttacker.Params memory) {
        return LpCollateralAttacker.Params({lender: lpLender, seedAmount: seed, pumpAmount: PUMP});
    }

    function _assertDrained(uint256 profit) internal view {
        assertEq(lpLender.liquidity(), 0, "lender drained");
        assertGt(profit, (VICTIM_USD * 70) / 100, "profit > 70% of the lender's liquidity");
        assertEq(lpLender.debtOf(address(attacker)), VICTIM_USD, "debt left behind");
        // The abandoned LP is worth a fraction of the debt at the (restored) price.
        vm.assertLt(lpLender.collateralValue(address(attacker)), VICTIM_USD / 3, "collateral << debt");
        assertEq(usd.balanceOf(address(attacker)), 0, "attack contract empty");
    }

    function test_everyFundingSource_drainsLender() public {
        for (uint8 s = 0; s < sourceCount(); ++s) {
            uint256 snap = vm.snapshotState();
            FlashFunded.Source src = FlashFunded.Source(s);
            FlashFunded.Funding memory f = usdFunding(src, SEED + PUMP, address(attacker));
            vm.prank(attackerEoa);
            attacker.execute(f, _params(SEED));
            _assertDrained(netProfit(src, SEED + PUMP));
            vm.revertToState(snap);
        }
    }

    /// @dev Two transactions: tx1 posts LP from own capital; blocks later tx2 is the flash-funded
    /// pump-and-borrow.
    function test_twoTransactions_prepareThenFlash() public {
        usd.mint(attackerEoa, SEED);
        vm.startPrank(attackerEoa);
        require(usd.transfer(address(attacker), SEED), "fund");
        uint256 lp = attacker.prepare(lpLender, SEED);
        vm.stopPrank();
        assertEq(lpLender.collateralOf(address(attacker)), lp, "tx1 posted LP");
        assertEq(lpLender.liquidity(), VICTIM_USD, "tx1 took nothing");

        vm.roll(block.number + 3);
        FlashFunded.Funding memory f = usdFunding(FlashFunded.Source.BalancerStyle, PUMP, address(attacker));
        vm.prank(attackerEoa);
        attacker.execute(f, _params(0));
        _assertDrained(usd.balanceOf(attackerEoa));
        assertGt(usd.balanceOf(attackerEoa), SEED, "tx2 more than recovers tx1's capital");
    }

    function test_twoTransactions_pauseBetweenStopsTheSecond() public {
        usd.mint(attackerEoa, SEED);
        vm.startPrank(attackerEoa);
        require(usd.transfer(address(attacker), SEED), "fund");
        attacker.prepare(lpLender, SEED);
        vm.stopPrank();

        vm.prank(guardian);
        lpLender.pause();
        FlashFunded.Funding memory f = usdFunding(FlashFunded.Source.UniswapV2FlashSwap, PUMP, address(attacker));
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(attackerEoa);
        attacker.execute(f, _params(0));
        assertEq(lpLender.liquidity(), VICTIM_USD, "lender intact");
    }

    function test_paused_attackReverts() public {
        vm.prank(guardian);
        lpLender.pause();
        for (uint8 s = 0; s < sourceCount(); ++s) {
            FlashFunded.Funding memory f = usdFunding(FlashFunded.Source(s), SEED + PUMP, address(attacker));
            vm.expectRevert(Pausable.EnforcedPause.selector);
            vm.prank(attackerEoa);
            attacker.execute(f, _params(SEED));
        }
        assertEq(lpLender.liquidity(), VICTIM_USD, "lender intact");
    }

    function test_flashSwapFromTheCollateralPairFails() public {
        FlashFunded.Funding memory f = FlashFunded.Funding({
            source: FlashFunded.Source.UniswapV2FlashSwap,
            provider: address(pricePair),
            token: IERC20(address(usd)),
            amount: 500_000 * USD
        });
        vm.expectRevert(bytes("UniswapV2: LOCKED"));
        vm.prank(attackerEoa);
        attacker.execute(f, _params(SEED));
    }

    function test_benign_borrowWithinLtvAndRepay() public {
        (uint256 lp,) = _lpFor(bob, 400_000 * USD);
        vm.startPrank(bob);
        pricePair.approve(address(lpLender), lp);
        lpLender.depositCollateral(lp);
        uint256 limit = lpLender.maxBorrow(bob);
        lpLender.borrow(limit);
        vm.expectRevert();
        lpLender.borrow(1);
        vm.roll(block.number + 10);
        usd.approve(address(lpLender), limit);
        lpLender.repay(limit);
        lpLender.withdrawCollateral(lp);
        vm.stopPrank();
        assertEq(lpLender.liquidity(), VICTIM_USD, "lender whole");
        assertEq(pricePair.balanceOf(bob), lp, "collateral back");
    }

    /// @dev Mints `usdValue` worth of USD/COLL LP to `who` at the current price.
    function _lpFor(address who, uint256 usdValue) internal returns (uint256 lp, uint256 collIn) {
        uint256 usdIn = usdValue / 2;
        collIn = (usdIn * reserveOf(pricePair, address(coll))) / reserveOf(pricePair, address(usd));
        usd.mint(address(pricePair), usdIn);
        coll.mint(address(pricePair), collIn);
        lp = pricePair.mint(who);
    }
}
