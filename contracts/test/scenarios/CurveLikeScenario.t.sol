// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ScenarioFixture} from "./ScenarioFixture.sol";
import {FlashFunded} from "../../src/scenarios/common/FlashFunded.sol";
import {CurveLikeAttacker} from "../../src/scenarios/attacks/CurveLikeAttacker.sol";
import {BatchSwapRouter} from "../../src/scenarios/benign/BatchSwapRouter.sol";

/// @notice Pattern 7 (Inverse / UwU) against VirtualPriceLender (1M USD liquidity, LTV 75%) on
/// CurveLikePool USD/USDX 1M/1M. Attack: add 200k USD one-sided and post the LP, a pump contract
/// swaps 20M USD through the pool (virtual price x~9.7), borrow everything, swap back:
/// 20.2M USD of capital.
contract CurveLikeScenarioTest is ScenarioFixture {
    uint256 internal constant LIQUIDITY = 200_000 * USD;
    uint256 internal constant PUMP = 20_000_000 * USD;
    uint256 internal constant CAPITAL = LIQUIDITY + PUMP;

    CurveLikeAttacker internal attacker;

    function setUp() public override {
        super.setUp();
        vm.prank(attackerEoa);
        attacker = new CurveLikeAttacker();
    }

    function _params() internal view returns (CurveLikeAttacker.Params memory) {
        return CurveLikeAttacker.Params({lender: vpLender, liquidityAmount: LIQUIDITY, pumpAmount: PUMP});
    }

    function test_everyFundingSource_drainsLender() public {
        uint256 vpBefore = curvePool.get_virtual_price();
        for (uint8 s = 0; s < sourceCount(); ++s) {
            uint256 snap = vm.snapshotState();
            FlashFunded.Source src = FlashFunded.Source(s);
            FlashFunded.Funding memory f = usdFunding(src, CAPITAL, address(attacker));
            vm.prank(attackerEoa);
            attacker.execute(f, _params());

            assertEq(vpLender.liquidity(), 0, "lender drained");
            assertGt(netProfit(src, CAPITAL), (VICTIM_USD * 70) / 100, "profit > 70% of the liquidity");
            assertEq(vpLender.debtOf(address(attacker)), VICTIM_USD, "debt left behind");
            vm.assertLt(vpLender.collateralValue(address(attacker)), VICTIM_USD / 4, "collateral << debt");
            assertLe(curvePool.get_virtual_price(), (vpBefore * 101) / 100, "virtual price back near 1");
            assertEq(usd.balanceOf(address(attacker)), 0, "attack contract empty");
            vm.revertToState(snap);
        }
    }

    function test_paused_attackReverts() public {
        vm.prank(guardian);
        vpLender.pause();
        for (uint8 s = 0; s < sourceCount(); ++s) {
            FlashFunded.Funding memory f = usdFunding(FlashFunded.Source(s), CAPITAL, address(attacker));
            vm.expectRevert(Pausable.EnforcedPause.selector);
            vm.prank(attackerEoa);
            attacker.execute(f, _params());
        }
        assertEq(vpLender.liquidity(), VICTIM_USD, "lender intact");
    }

    function test_pausedPool_attackReverts() public {
        vm.prank(guardian);
        curvePool.pause();
        FlashFunded.Funding memory f = usdFunding(FlashFunded.Source.BalancerStyle, CAPITAL, address(attacker));
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(attackerEoa);
        attacker.execute(f, _params());
    }

    /// @dev Benign: an LP borrows within LTV; a whale's 25% swap through the pool (via the batch
    /// router) moves the virtual price a little; the LP repays and leaves; lender whole.
    function test_benign_borrowAndWhaleSwap_lenderWhole() public {
        usd.mint(bob, 300_000 * USD);
        usdx.mint(bob, 300_000 * USDX);
        vm.startPrank(bob);
        usd.approve(address(curvePool), type(uint256).max);
        usdx.approve(address(curvePool), type(uint256).max);
        uint256 lp = curvePool.add_liquidity([300_000 * USD, 300_000 * USDX], 0);
        IERC20(address(curvePool)).approve(address(vpLender), lp);
        vpLender.depositCollateral(lp);
        vpLender.borrow(400_000 * USD);
        vm.stopPrank();

        BatchSwapRouter router = new BatchSwapRouter();
        usd.mint(whale, 300_000 * USD);
        vm.startPrank(whale);
        usd.approve(address(router), type(uint256).max);
        uint256 got = router.exchangeCurve(curvePool, 0, 1, 300_000 * USD, 240_000 * USDX, whale);
        vm.stopPrank();
        assertGe(got, 240_000 * USDX, "whale trade filled");
        assertLe(curvePool.get_virtual_price(), 1.03e18, "a whale trade moves the virtual price < 3%");

        vm.roll(block.number + 20);
        vm.startPrank(bob);
        usd.approve(address(vpLender), 400_000 * USD);
        vpLender.repay(400_000 * USD);
        vpLender.withdrawCollateral(lp);
        vm.stopPrank();
        assertEq(vpLender.liquidity(), VICTIM_USD, "lender whole");
    }
}
