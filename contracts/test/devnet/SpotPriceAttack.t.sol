// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {DevnetFixture} from "./DevnetFixture.sol";
import {SpotPriceAttacker} from "../../src/devnet/SpotPriceAttacker.sol";
import {ConstructorAttacker} from "../../src/devnet/ConstructorAttacker.sol";
import {IERC3156FlashLender} from "@openzeppelin/contracts/interfaces/IERC3156FlashLender.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @notice The drill's attack against the vulnerable market, in its three shapes, and the pause
/// that stops it.
contract SpotPriceAttackTest is DevnetFixture {
    SpotPriceAttacker internal attacker;

    function setUp() public override {
        super.setUp();
        // An honest borrower already in the market: the attack must not need them, and their
        // position must survive a paused (failed) attack.
        coll.mint(alice, 10 * COLL);
        vm.startPrank(alice);
        coll.approve(address(market), type(uint256).max);
        market.deposit(10 * COLL);
        market.borrow(5_000 * USD);
        vm.stopPrank();

        vm.prank(attackerEoa);
        attacker = new SpotPriceAttacker();
    }

    function _marketLiquidity() internal view returns (uint256) {
        return market.liquidity();
    }

    /// @dev Shared post-conditions: the market lost (nearly) all its liquidity, the attacker EOA
    /// holds a large profit and the flash source was repaid.
    function _assertDrained(uint256 liquidityBefore, uint256 profit) internal view {
        uint256 left = market.liquidity();
        assertLe(left, liquidityBefore / 100, "market keeps < 1% of its liquidity");
        assertEq(usd.balanceOf(attackerEoa), profit, "profit landed at the attacker EOA");
        assertGe(profit, (liquidityBefore * 90) / 100, "profit > 90% of the market's liquidity");
        assertEq(usd.balanceOf(address(attacker)), 0, "nothing left in the attack contract");
    }

    function test_attackViaFlashLender_drainsMarket() public {
        uint256 liquidityBefore = _marketLiquidity();
        uint256 priceBefore = market.price();

        vm.prank(attackerEoa);
        uint256 profit = attacker.attackWithFlashLender(lender, market, ATTACK_AMOUNT);

        _assertDrained(liquidityBefore, profit);
        assertEq(usd.balanceOf(address(lender)), LENDER_USD + ATTACK_AMOUNT * LENDER_FEE_BPS / 10_000, "lender +fee");
        // The attacker's collateral is a few dozen COLL, worth a fraction of what it borrowed.
        uint256 attackerCollateral = market.collateralOf(address(attacker));
        assertLe(attackerCollateral, 60 * COLL, "tiny collateral left behind");
        assertEq(market.debtOf(address(attacker)), liquidityBefore, "borrowed the whole market");
        // After the unwind the spot price is back near where it started (slightly above: the
        // deposited COLL left the pool).
        assertLe(market.price(), (priceBefore * 115) / 100, "price roughly restored");
    }

    function test_attackViaFlashSwap_drainsMarket() public {
        uint256 liquidityBefore = _marketLiquidity();
        uint256 fundingUsdBefore = reserveOf(fundingPair, address(usd));

        vm.prank(attackerEoa);
        uint256 profit = attacker.attackWithFlashSwap(fundingPair, market, ATTACK_AMOUNT);

        _assertDrained(liquidityBefore, profit);
        assertGt(reserveOf(fundingPair, address(usd)), fundingUsdBefore, "funding pair repaid with its fee");
        assertEq(reserveOf(fundingPair, address(weth)), FUNDING_PAIR_WETH, "WETH side untouched");
    }

    function test_attackViaConstructor_drainsMarketInOneDeployment() public {
        uint256 liquidityBefore = _marketLiquidity();

        // beneficiary = address(0) => profit goes to tx.origin.
        vm.prank(attackerEoa, attackerEoa);
        ConstructorAttacker deployed = new ConstructorAttacker(lender, market, ATTACK_AMOUNT, address(0));

        uint256 profit = deployed.profit();
        assertEq(deployed.beneficiary(), attackerEoa, "tx.origin is the beneficiary");
        assertLe(market.liquidity(), liquidityBefore / 100, "market drained");
        assertGe(profit, (liquidityBefore * 90) / 100, "large profit");
        assertEq(usd.balanceOf(attackerEoa), profit, "profit at tx.origin");
        assertEq(usd.balanceOf(address(deployed)), 0, "nothing left in the deployed contract");
        assertEq(usd.balanceOf(address(deployed.helper())), 0, "nothing left in the helper");
        assertEq(deployed.helper().owner(), address(deployed), "helper owned by the constructor attacker");
    }

    function test_attackViaConstructor_explicitBeneficiary() public {
        address beneficiary = address(0xBEEF);
        vm.prank(attackerEoa, attackerEoa);
        ConstructorAttacker deployed = new ConstructorAttacker(lender, market, ATTACK_AMOUNT, beneficiary);
        assertEq(usd.balanceOf(beneficiary), deployed.profit(), "profit at beneficiary");
        assertEq(usd.balanceOf(attackerEoa), 0, "not at tx.origin");
    }

    function test_pausedMarket_flashLenderAttackReverts() public {
        vm.prank(guardian);
        market.pause();
        uint256 liquidityBefore = market.liquidity();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(attackerEoa);
        attacker.attackWithFlashLender(lender, market, ATTACK_AMOUNT);
        assertEq(market.liquidity(), liquidityBefore, "liquidity intact");
        assertEq(market.debtOf(alice), 5_000 * USD, "honest position intact");
        assertEq(reserveOf(pricePair, address(usd)), PRICE_PAIR_USD, "pool untouched (whole tx reverted)");
    }

    function test_pausedMarket_flashSwapAttackReverts() public {
        vm.prank(guardian);
        market.pause();
        uint256 liquidityBefore = market.liquidity();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(attackerEoa);
        attacker.attackWithFlashSwap(fundingPair, market, ATTACK_AMOUNT);
        assertEq(market.liquidity(), liquidityBefore, "liquidity intact");
    }

    function test_pausedMarket_constructorAttackReverts() public {
        vm.prank(guardian);
        market.pause();
        uint256 liquidityBefore = market.liquidity();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(attackerEoa, attackerEoa);
        new ConstructorAttacker(lender, market, ATTACK_AMOUNT, address(0));
        assertEq(market.liquidity(), liquidityBefore, "liquidity intact");
    }

    function test_unpausedAgain_attackWorksAgain() public {
        vm.prank(guardian);
        market.pause();
        vm.prank(guardian);
        market.unpause();
        vm.prank(attackerEoa);
        uint256 profit = attacker.attackWithFlashLender(lender, market, ATTACK_AMOUNT);
        assertGt(profit, 0, "the pause is what stops it");
    }

    function test_tooSmallFlashLoanIsUnprofitableAndReverts() public {
        // 100k USD only pumps COLL ~21%: the LTV-capped borrow (~82k USD) cannot repay the loan.
        vm.expectPartialRevert(SpotPriceAttacker.AttackUnprofitable.selector);
        vm.prank(attackerEoa);
        attacker.attackWithFlashLender(lender, market, 100_000 * USD);
    }

    function test_onlyOwnerCanAttack() public {
        vm.expectRevert(SpotPriceAttacker.NotOwner.selector);
        attacker.attackWithFlashLender(lender, market, ATTACK_AMOUNT);
        vm.expectRevert(SpotPriceAttacker.NotOwner.selector);
        attacker.attackWithFlashSwap(fundingPair, market, ATTACK_AMOUNT);
    }

    function test_rejectsUntrustedCallbacks() public {
        vm.expectRevert(SpotPriceAttacker.UntrustedCallback.selector);
        attacker.onFlashLoan(address(attacker), address(usd), 1, 0, abi.encode(market));
        vm.expectRevert(SpotPriceAttacker.UntrustedCallback.selector);
        attacker.uniswapV2Call(address(attacker), 1, 0, abi.encode(market));
    }

    function test_flashSwapFromPricePairIsRejected() public {
        vm.expectRevert(SpotPriceAttacker.FundingPairIsPricePair.selector);
        vm.prank(attackerEoa);
        attacker.attackWithFlashSwap(pricePair, market, ATTACK_AMOUNT);
    }

    /// @dev Any flash size from 2M to 8M USD drains the market for a large profit.
    function testFuzz_attackProfitableOverRange(uint256 amount) public {
        amount = bound(amount, 2_000_000 * USD, 8_000_000 * USD);
        uint256 liquidityBefore = market.liquidity();
        vm.prank(attackerEoa);
        uint256 profit = attacker.attackWithFlashLender(IERC3156FlashLender(address(lender)), market, amount);
        assertEq(market.liquidity(), 0, "fully drained");
        assertGe(profit, (liquidityBefore * 80) / 100, "profit > 80% of liquidity");
    }
}
