// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {DevnetFixture} from "./DevnetFixture.sol";
import {FlashArbitrageur} from "../../src/devnet/FlashArbitrageur.sol";
import {IUniswapV2Pair} from "../../src/devnet/interfaces/IUniswapV2Pair.sol";

/// @notice The benign look-alike: flash loan + swaps through the market's price pair, but only
/// closing a price gap between two venues for a small profit.
contract FlashArbitrageurTest is DevnetFixture {
    FlashArbitrageur internal arb;
    uint256 internal constant ARB_AMOUNT = 5_000 * USD;

    event ArbitrageExecuted(
        address indexed token, address indexed buyPair, address indexed sellPair, uint256 amount, uint256 profit
    );

    function setUp() public override {
        super.setUp();
        vm.prank(arber);
        arb = new FlashArbitrageur();
    }

    /// @dev COLL price on a pair in USD base units per whole COLL.
    function _price(IUniswapV2Pair pair) internal view returns (uint256) {
        return (reserveOf(pair, address(usd)) * COLL) / reserveOf(pair, address(coll));
    }

    function test_samePrice_revertsUnprofitable() public {
        assertEq(market.price(), 1_000e18, "venues start at parity");
        int256 expected = arb.expectedProfit(lender, address(usd), pricePair, arbPair, ARB_AMOUNT);
        assertTrue(expected < 0, "round trip loses fees");
        vm.expectPartialRevert(FlashArbitrageur.Unprofitable.selector);
        vm.prank(arber);
        arb.arbitrage(lender, address(usd), pricePair, arbPair, ARB_AMOUNT, 0);
    }

    function test_priceGap_profitsALittle_buyOnSecondVenue() public {
        // A whale buys 20k USD of COLL on the market's price pair: COLL ~4% dearer there.
        swapAs(whale, pricePair, usd, 20_000 * USD);
        uint256 gapBefore = _price(pricePair) - _price(arbPair);

        int256 expected = arb.expectedProfit(lender, address(usd), pricePair, arbPair, ARB_AMOUNT);
        assertTrue(expected > 0, "quote says profitable");

        vm.expectEmit(true, true, true, false, address(arb));
        emit ArbitrageExecuted(address(usd), address(arbPair), address(pricePair), ARB_AMOUNT, 0);
        vm.prank(arber);
        uint256 profit = arb.arbitrage(lender, address(usd), pricePair, arbPair, ARB_AMOUNT, 1);

        assertEq(profit, uint256(expected), "matches the quote");
        assertGt(profit, 0, "profit");
        assertLe(profit, ARB_AMOUNT / 50, "but small (< 2% of the amount)");
        assertEq(usd.balanceOf(arber), profit, "profit to the owner");
        assertEq(usd.balanceOf(address(arb)), 0, "nothing left behind");
        assertEq(usd.balanceOf(address(lender)), LENDER_USD + ARB_AMOUNT * LENDER_FEE_BPS / 10_000, "lender +fee");
        uint256 gapAfter = _price(pricePair) - _price(arbPair);
        assertLe(gapAfter, gapBefore, "the gap narrows");
        // The market's spot price moved only slightly: nothing for a guardian to worry about.
        assertGe(market.price(), 1_000e18, "price still above parity");
        assertLe(market.price(), 1_050e18, "and within 5%");
    }

    function test_priceGap_profitsALittle_buyOnPricePair() public {
        // The gap the other way round: COLL dearer on the second venue; argument order irrelevant.
        swapAs(whale, arbPair, usd, 10_000 * USD);
        uint256 priceBefore = market.price();
        vm.prank(arber);
        uint256 profit = arb.arbitrage(lender, address(usd), arbPair, pricePair, ARB_AMOUNT, 0);
        assertGt(profit, 0, "profit");
        assertLe(profit, ARB_AMOUNT / 50, "small");
        assertGt(market.price(), priceBefore, "bought COLL on the price pair");
    }

    function test_minProfitEnforced() public {
        swapAs(whale, pricePair, usd, 20_000 * USD);
        int256 expected = arb.expectedProfit(lender, address(usd), pricePair, arbPair, ARB_AMOUNT);
        vm.expectRevert(
            abi.encodeWithSelector(
                FlashArbitrageur.ProfitBelowMinimum.selector, uint256(expected), uint256(expected) + 1
            )
        );
        vm.prank(arber);
        arb.arbitrage(lender, address(usd), pricePair, arbPair, ARB_AMOUNT, uint256(expected) + 1);
    }

    function test_tooLargeForTheGap_reverts() public {
        swapAs(whale, pricePair, usd, 20_000 * USD);
        // 100k USD overshoots the gap: slippage exceeds it.
        vm.expectPartialRevert(FlashArbitrageur.Unprofitable.selector);
        vm.prank(arber);
        arb.arbitrage(lender, address(usd), pricePair, arbPair, 100_000 * USD, 0);
    }

    function test_rejectsMismatchedPairs() public {
        vm.expectRevert(FlashArbitrageur.PairsMismatch.selector);
        vm.prank(arber);
        arb.arbitrage(lender, address(usd), pricePair, fundingPair, ARB_AMOUNT, 0);
        vm.expectRevert(FlashArbitrageur.PairsMismatch.selector);
        vm.prank(arber);
        arb.arbitrage(lender, address(usd), pricePair, pricePair, ARB_AMOUNT, 0);
    }

    function test_onlyOwnerAndTrustedCallback() public {
        vm.expectRevert(FlashArbitrageur.NotOwner.selector);
        arb.arbitrage(lender, address(usd), pricePair, arbPair, ARB_AMOUNT, 0);
        vm.expectRevert(FlashArbitrageur.UntrustedCallback.selector);
        arb.onFlashLoan(address(arb), address(usd), 1, 0, abi.encode(pricePair, arbPair));
    }
}
