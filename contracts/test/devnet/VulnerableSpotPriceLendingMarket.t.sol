// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {DevnetFixture} from "./DevnetFixture.sol";
import {VulnerableSpotPriceLendingMarket} from "../../src/devnet/VulnerableSpotPriceLendingMarket.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

contract VulnerableSpotPriceLendingMarketTest is DevnetFixture {
    event Deposit(address indexed user, uint256 amount);
    event Withdraw(address indexed user, uint256 amount);
    event Borrow(address indexed user, uint256 amount);
    event Repay(address indexed user, uint256 amount);

    function setUp() public override {
        super.setUp();
        coll.mint(alice, 10 * COLL);
        vm.prank(alice);
        coll.approve(address(market), type(uint256).max);
        vm.prank(alice);
        usd.approve(address(market), type(uint256).max);
    }

    function test_setup() public view {
        assertEq(address(market.collateralToken()), address(coll), "collateral");
        assertEq(address(market.debtToken()), address(usd), "debt");
        assertEq(address(market.pricePair()), address(pricePair), "pair");
        assertEq(market.ltvBps(), LTV_BPS, "ltv");
        assertEq(market.liquidity(), MARKET_USD, "liquidity");
        assertTrue(market.hasRole(market.PAUSER_ROLE(), guardian), "guardian is pauser");
        assertTrue(market.hasRole(market.DEFAULT_ADMIN_ROLE(), admin), "admin");
        assertFalse(market.paused(), "not paused");
    }

    function test_priceIsSpotPriceNormalisedToWad() public view {
        // 1,000,000 USD (6 dec) / 1,000 COLL (18 dec) => 1,000 USD per COLL
        assertEq(market.price(), 1_000e18, "price");
    }

    function test_priceReactsToSwaps() public {
        uint256 before = market.price();
        swapAs(whale, pricePair, usd, 100_000 * USD); // buy COLL
        uint256 pumped = market.price();
        assertGt(pumped, before, "buying COLL raises the price");
        // (1.1)^2 => ~1,210 USD/COLL (a bit less: the 0.3% fee stays in the pool as USD)
        assertGe(pumped, 1_200e18, "~+21%");
        swapAs(whale, pricePair, coll, 200 * COLL); // dump COLL
        assertLe(market.price(), before, "selling COLL lowers it");
    }

    function test_depositBorrowRepayWithdraw() public {
        vm.expectEmit(true, false, false, true, address(market));
        emit Deposit(alice, 2 * COLL);
        vm.prank(alice);
        market.deposit(2 * COLL);
        assertEq(market.collateralOf(alice), 2 * COLL, "collateralOf");
        assertEq(market.collateralValue(alice), 2_000 * USD, "value at 1,000 USD/COLL");
        assertEq(market.borrowLimit(alice), 1_500 * USD, "limit 75%");
        assertEq(market.maxBorrow(alice), 1_500 * USD, "maxBorrow");

        vm.expectEmit(true, false, false, true, address(market));
        emit Borrow(alice, 1_000 * USD);
        vm.prank(alice);
        market.borrow(1_000 * USD);
        assertEq(market.debtOf(alice), 1_000 * USD, "debtOf");
        assertEq(usd.balanceOf(alice), 1_000 * USD, "alice got USD");
        assertEq(market.liquidity(), MARKET_USD - 1_000 * USD, "liquidity");
        assertEq(market.maxBorrow(alice), 500 * USD, "remaining");

        vm.expectEmit(true, false, false, true, address(market));
        emit Repay(alice, 400 * USD);
        vm.prank(alice);
        market.repay(400 * USD);
        assertEq(market.debtOf(alice), 600 * USD, "partial repay");

        // Repay is capped at the debt.
        usd.mint(alice, 1_000 * USD);
        vm.prank(alice);
        market.repay(type(uint256).max);
        assertEq(market.debtOf(alice), 0, "fully repaid");
        assertEq(market.liquidity(), MARKET_USD, "liquidity restored");

        vm.expectEmit(true, false, false, true, address(market));
        emit Withdraw(alice, 2 * COLL);
        vm.prank(alice);
        market.withdraw(2 * COLL);
        assertEq(market.collateralOf(alice), 0, "withdrawn");
        assertEq(coll.balanceOf(alice), 10 * COLL, "collateral back");
    }

    function test_borrowUpToLtvOnly() public {
        vm.startPrank(alice);
        market.deposit(2 * COLL);
        market.borrow(1_500 * USD); // exactly 75%
        vm.expectRevert(
            abi.encodeWithSelector(
                VulnerableSpotPriceLendingMarket.PositionUnhealthy.selector, alice, 1_500 * USD + 1, 1_500 * USD
            )
        );
        market.borrow(1);
        vm.stopPrank();
        assertEq(market.maxBorrow(alice), 0, "nothing left");
    }

    function test_withdrawMustKeepPositionHealthy() public {
        vm.startPrank(alice);
        market.deposit(2 * COLL);
        market.borrow(750 * USD); // needs 1 COLL
        market.withdraw(1 * COLL);
        vm.expectRevert(
            abi.encodeWithSelector(
                VulnerableSpotPriceLendingMarket.PositionUnhealthy.selector, alice, 750 * USD, 749_999_999
            )
        );
        market.withdraw(1);
        vm.expectRevert(
            abi.encodeWithSelector(VulnerableSpotPriceLendingMarket.InsufficientCollateral.selector, 2 * COLL, COLL)
        );
        market.withdraw(2 * COLL);
        vm.stopPrank();
    }

    function test_borrowCappedByLiquidity() public {
        coll.mint(alice, 10_000 * COLL);
        vm.startPrank(alice);
        market.deposit(10_000 * COLL); // 10M USD of collateral
        vm.expectRevert(
            abi.encodeWithSelector(
                VulnerableSpotPriceLendingMarket.InsufficientLiquidity.selector, MARKET_USD + 1, MARKET_USD
            )
        );
        market.borrow(MARKET_USD + 1);
        vm.stopPrank();
    }

    function test_zeroAmountsRevert() public {
        vm.startPrank(alice);
        vm.expectRevert(VulnerableSpotPriceLendingMarket.ZeroAmount.selector);
        market.deposit(0);
        vm.expectRevert(VulnerableSpotPriceLendingMarket.ZeroAmount.selector);
        market.borrow(0);
        vm.expectRevert(VulnerableSpotPriceLendingMarket.ZeroAmount.selector);
        market.repay(1); // no debt
        vm.expectRevert(VulnerableSpotPriceLendingMarket.ZeroAmount.selector);
        market.withdraw(0);
        vm.stopPrank();
    }

    function test_supplyAndPlainTransferAddLiquidity() public {
        usd.mint(address(this), 500 * USD);
        usd.approve(address(market), 300 * USD);
        market.supply(300 * USD);
        usd.transfer(address(market), 200 * USD);
        assertEq(market.liquidity(), MARKET_USD + 500 * USD, "liquidity");
    }

    function test_onlyPauserCanPauseAndUnpause() public {
        bytes32 role = market.PAUSER_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role));
        vm.prank(alice);
        market.pause();
        // Even the admin needs the role.
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role));
        market.pause();

        vm.prank(guardian);
        market.pause();
        assertTrue(market.paused(), "paused");

        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role));
        vm.prank(alice);
        market.unpause();

        vm.prank(guardian);
        market.unpause();
        assertFalse(market.paused(), "unpaused");

        // The admin can hand the role to another guardian.
        address guardian2 = address(0x6A2E);
        market.grantRole(role, guardian2);
        vm.prank(guardian2);
        market.pause();
        assertTrue(market.paused(), "paused by guardian2");
    }

    function test_pauseBlocksEveryUserAction() public {
        vm.startPrank(alice);
        market.deposit(2 * COLL);
        market.borrow(100 * USD);
        vm.stopPrank();

        vm.prank(guardian);
        market.pause();

        vm.startPrank(alice);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        market.deposit(1 * COLL);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        market.withdraw(1);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        market.borrow(1);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        market.repay(1);
        vm.stopPrank();

        vm.prank(guardian);
        market.unpause();
        vm.prank(alice);
        market.repay(100 * USD);
        assertEq(market.debtOf(alice), 0, "works again after unpause");
    }

    function test_constructorRejectsWrongPair() public {
        vm.expectRevert(
            abi.encodeWithSelector(VulnerableSpotPriceLendingMarket.PairMismatch.selector, address(fundingPair))
        );
        new VulnerableSpotPriceLendingMarket(coll, usd, fundingPair, LTV_BPS, admin, guardian);
        vm.expectRevert(abi.encodeWithSelector(VulnerableSpotPriceLendingMarket.InvalidLtv.selector, 10_000));
        new VulnerableSpotPriceLendingMarket(coll, usd, pricePair, 10_000, admin, guardian);
    }

    function test_worksWithEitherTokenOrder() public {
        // Same pair, roles swapped: COLL is now the debt token. Price of 1 USD in COLL = 0.001e18.
        VulnerableSpotPriceLendingMarket inverse =
            new VulnerableSpotPriceLendingMarket(usd, coll, pricePair, LTV_BPS, admin, address(0));
        assertEq(inverse.price(), 1e15, "0.001 COLL per USD");
        assertFalse(inverse.hasRole(inverse.PAUSER_ROLE(), guardian), "no pauser");
    }
}
