// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ScenarioFixture} from "./ScenarioFixture.sol";
import {IUniswapV2Pair} from "../../src/devnet/interfaces/IUniswapV2Pair.sol";
import {FlashFunded} from "../../src/scenarios/common/FlashFunded.sol";
import {MultiSourceArbitrage} from "../../src/scenarios/benign/MultiSourceArbitrage.sol";
import {FlashLiquidator} from "../../src/scenarios/benign/FlashLiquidator.sol";
import {BatchSwapRouter} from "../../src/scenarios/benign/BatchSwapRouter.sol";
import {TwapOracle} from "../../src/scenarios/benign/TwapOracle.sol";
import {LaunchToken, TokenLauncher} from "../../src/scenarios/benign/LaunchToken.sol";

/// @notice Benign look-alikes: each succeeds and leaves every victim whole.
contract BenignScenariosTest is ScenarioFixture {
    address internal bot = address(0xB07);

    /// @dev Snapshot of every victim's protected balance.
    struct Books {
        uint256 shareVaultIdle;
        uint256 lpLender;
        uint256 minterStk;
        uint256 shareLender;
        uint256 vpLender;
        uint256 eMarket;
        uint256 rwdSupply;
    }

    function _books() internal view returns (Books memory b) {
        b.shareVaultIdle = shareVault.idleAssets();
        b.lpLender = lpLender.liquidity();
        b.minterStk = stk.balanceOf(address(minter));
        b.shareLender = shareLender.liquidity();
        b.vpLender = vpLender.liquidity();
        b.eMarket = eMarket.cash();
        b.rwdSupply = rwd.totalSupply();
    }

    function _assertWhole(Books memory b) internal view {
        Books memory a = _books();
        assertGe(a.shareVaultIdle, b.shareVaultIdle, "share vault whole");
        assertGe(a.lpLender, b.lpLender, "lp lender whole");
        assertGe(a.minterStk, b.minterStk, "minter whole");
        assertGe(a.shareLender, b.shareLender, "share lender whole");
        assertGe(a.vpLender, b.vpLender, "vp lender whole");
        assertGe(a.eMarket, b.eMarket, "euler-like market whole");
        assertEq(a.rwdSupply, b.rwdSupply, "no rewards minted");
    }

    /// @dev Sells `total` COLL into the uni USD/COLL pair in `steps` blocks (a real price move).
    function _sellCollOverBlocks(uint256 total, uint256 steps) internal {
        for (uint256 k = 0; k < steps; ++k) {
            vm.roll(block.number + 1);
            vm.warp(block.timestamp + 12);
            swapAs(whale, pricePair, coll, total / steps);
        }
    }

    // ---------------------------------------------------------------- flash-loan arbitrage

    /// @dev A whale dumped COLL on uni over a few blocks: COLL is ~15% cheaper there than on
    /// sushi. The bot closes the gap with 20k USD from each source (and with own capital).
    function test_flashArbitrage_everySource_profitsAndVictimsWhole() public {
        _sellCollOverBlocks(80 * COLL, 4);
        Books memory books = _books();
        vm.prank(bot);
        MultiSourceArbitrage arb = new MultiSourceArbitrage();

        for (uint8 s = 0; s < sourceCount(); ++s) {
            uint256 snap = vm.snapshotState();
            FlashFunded.Source src = FlashFunded.Source(s);
            uint256 amount = 20_000 * USD;
            if (src == FlashFunded.Source.OwnCapital) {
                usd.mint(address(arb), amount);
            }
            FlashFunded.Funding memory f =
                FlashFunded.Funding({source: src, provider: provider(src), token: IERC20(address(usd)), amount: amount});
            vm.prank(bot);
            uint256 profit = arb.arbitrage(f, pricePair, arbPair, 1);
            assertGt(profit, 500 * USD, "profitable");
            uint256 expected = src == FlashFunded.Source.OwnCapital ? amount + profit : profit;
            assertEq(usd.balanceOf(bot), expected, "proceeds at the bot");
            _assertWhole(books);
            vm.revertToState(snap);
        }
    }

    function test_flashArbitrage_noGapRevertsOnRepayment() public {
        vm.prank(bot);
        MultiSourceArbitrage arb = new MultiSourceArbitrage();
        FlashFunded.Funding memory f = FlashFunded.Funding({
            source: FlashFunded.Source.AaveStyle,
            provider: address(aavePool),
            token: IERC20(address(usd)),
            amount: 20_000 * USD
        });
        vm.expectPartialRevert(FlashFunded.CannotRepay.selector);
        vm.prank(bot);
        arb.arbitrage(f, pricePair, arbPair, 0);
    }

    // ---------------------------------------------------------------- flash-loan liquidation

    /// @dev Bob borrows 72.5% of his LP's value; COLL falls ~35% over 4 blocks (real selling);
    /// his position crosses the 85% threshold; the bot repays half his debt with each source and
    /// takes LP worth 5% more, burns it, sells the COLL half into the same pair and keeps the
    /// difference. The lender gets the repayment.
    function test_flashLiquidation_afterRealPriceMove_everySource() public {
        uint256 lp = _bobBorrows(400_000 * USD, 290_000 * USD);
        _sellCollOverBlocks(280 * COLL, 4);
        assertTrue(lpLender.isLiquidatable(bob), "underwater after the move");
        assertGt(lpLender.collateralValue(bob), lpLender.debtOf(bob), "but no bad debt");

        vm.prank(bot);
        FlashLiquidator liq = new FlashLiquidator();
        uint256 repay = lpLender.debtOf(bob) / 2;
        uint256 liquidityBefore = lpLender.liquidity();

        for (uint8 s = 0; s < sourceCount(); ++s) {
            uint256 snap = vm.snapshotState();
            FlashFunded.Source src = FlashFunded.Source(s);
            if (src == FlashFunded.Source.OwnCapital) usd.mint(address(liq), repay);
            FlashFunded.Funding memory f =
                FlashFunded.Funding({source: src, provider: provider(src), token: IERC20(address(usd)), amount: repay});
            vm.prank(bot);
            uint256 profit = liq.liquidate(f, lpLender, bob, repay, 1);
            assertGt(profit, 0, "liquidation pays");
            assertEq(lpLender.liquidity(), liquidityBefore + repay, "lender repaid");
            vm.assertLt(lpLender.collateralOf(bob), lp, "collateral taken");
            // The bot's own COLL sale moves the price a bit further, yet no bad debt appears.
            assertGt(lpLender.collateralValue(bob), lpLender.debtOf(bob), "still no bad debt");
            vm.revertToState(snap);
        }
    }

    function test_healthyPositionCannotBeLiquidated() public {
        _bobBorrows(400_000 * USD, 290_000 * USD);
        vm.prank(bot);
        FlashLiquidator liq = new FlashLiquidator();
        FlashFunded.Funding memory f = FlashFunded.Funding({
            source: FlashFunded.Source.ERC3156,
            provider: address(lender),
            token: IERC20(address(usd)),
            amount: 100_000 * USD
        });
        vm.expectPartialRevert(bytes4(keccak256("NotLiquidatable(address,uint256,uint256)")));
        vm.prank(bot);
        liq.liquidate(f, lpLender, bob, 100_000 * USD, 0);
    }

    function _bobBorrows(uint256 lpValue, uint256 debt) internal returns (uint256 lp) {
        uint256 usdIn = lpValue / 2;
        uint256 collIn = (usdIn * reserveOf(pricePair, address(coll))) / reserveOf(pricePair, address(usd));
        usd.mint(address(pricePair), usdIn);
        coll.mint(address(pricePair), collIn);
        lp = pricePair.mint(bob);
        vm.startPrank(bob);
        pricePair.approve(address(lpLender), lp);
        lpLender.depositCollateral(lp);
        lpLender.borrow(debt);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- router multicall

    /// @dev One multicall: a 20% whale buy of COLL on uni, a sell on sushi, a Curve-like swap and
    /// a two-hop path — many Swap events over several victim-priced pools, all ordinary trades.
    function test_routerMulticall_severalSwaps_victimsWhole() public {
        Books memory books = _books();
        BatchSwapRouter router = new BatchSwapRouter();
        usd.mint(whale, 1_000_000 * USD);
        coll.mint(whale, 20 * COLL);
        vm.startPrank(whale);
        usd.approve(address(router), type(uint256).max);
        coll.approve(address(router), type(uint256).max);

        IUniswapV2Pair[] memory path = new IUniswapV2Pair[](2);
        path[0] = fundingPair; // USD -> WETH
        path[1] = fundingPair; // WETH -> USD
        bytes[] memory calls = new bytes[](4);
        calls[0] = abi.encodeCall(BatchSwapRouter.swapExactIn, (pricePair, address(usd), 100_000 * USD, 1, whale));
        calls[1] = abi.encodeCall(BatchSwapRouter.swapExactIn, (arbPair, address(coll), 20 * COLL, 1, whale));
        calls[2] = abi.encodeCall(BatchSwapRouter.exchangeCurve, (curvePool, 0, 1, 200_000 * USD, 1, whale));
        calls[3] = abi.encodeCall(BatchSwapRouter.swapPath, (path, address(usd), 50_000 * USD, 49_000 * USD, whale));
        bytes[] memory results = router.multicall(calls);
        vm.stopPrank();

        assertGt(abi.decode(results[0], (uint256)), 80 * COLL, "bought COLL");
        assertGt(abi.decode(results[1], (uint256)), 18_000 * USD, "sold COLL");
        assertGt(abi.decode(results[2], (uint256)), 160_000 * USDX, "swapped on the curve-like pool");
        assertGt(abi.decode(results[3], (uint256)), 49_000 * USD, "round trip");
        assertEq(usd.balanceOf(address(router)), 0, "router holds nothing");
        _assertWhole(books);
    }

    function test_routerSlippageBound() public {
        BatchSwapRouter router = new BatchSwapRouter();
        usd.mint(whale, 1_000 * USD);
        vm.startPrank(whale);
        usd.approve(address(router), type(uint256).max);
        vm.expectPartialRevert(BatchSwapRouter.InsufficientOutput.selector);
        router.swapExactIn(pricePair, address(usd), 1_000 * USD, 1 * COLL, whale);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- oracle keeper

    /// @dev A keeper updates the TWAP of three victim-related pools every 10 minutes while prices
    /// drift through ordinary trading; the average tracks the price, not a single block.
    function test_twapOracleKeeper_updates() public {
        Books memory books = _books();
        TwapOracle oracle = new TwapOracle(600);
        IUniswapV2Pair[] memory pairs = new IUniswapV2Pair[](3);
        pairs[0] = pricePair;
        pairs[1] = vaultPool;
        pairs[2] = stakePair;

        vm.prank(keeper);
        assertEq(oracle.update(pairs), 0, "first call only records");
        vm.expectRevert(abi.encodeWithSelector(TwapOracle.NotObserved.selector, pricePair));
        oracle.consult(pricePair, address(coll), 1 * COLL);

        for (uint256 k = 0; k < 3; ++k) {
            vm.warp(block.timestamp + 200);
            vm.roll(block.number + 17);
            swapAs(whale, pricePair, usd, 10_000 * USD);
        }
        vm.warp(block.timestamp + 200);
        vm.prank(keeper);
        assertEq(oracle.update(pairs), 3, "all three updated");
        vm.prank(keeper);
        assertEq(oracle.update(pairs), 0, "too early again: skipped");

        uint256 twap = oracle.consult(pricePair, address(coll), 1 * COLL);
        uint256 spot = (reserveOf(pricePair, address(usd)) * COLL) / reserveOf(pricePair, address(coll));
        assertGe(twap, 1_000 * USD, "at least the start price");
        assertLe(twap, spot, "below the end spot price");
        uint256 stkTwap = oracle.consult(stakePair, address(stk), 1 * STK);
        assertGe(stkTwap, 1_999 * USD, "untraded pair: 2,000 USD/STK");
        assertLe(stkTwap, 2_000 * USD, "untraded pair: 2,000 USD/STK");
        _assertWhole(books);
    }

    // ---------------------------------------------------------------- token deployment

    function test_tokenLaunch_deployAndSeedPool() public {
        Books memory books = _books();
        TokenLauncher launcher = new TokenLauncher();
        usd.mint(bob, 50_000 * USD);
        vm.startPrank(bob);
        usd.approve(address(launcher), 50_000 * USD);
        (LaunchToken token, IUniswapV2Pair pair) =
            launcher.launch("Bob Coin", "BOB", 1_000_000e18, uniFactory, IERC20(address(usd)), 50_000 * USD, 500_000e18);
        // An EOA deploying a token directly is the other ordinary shape.
        LaunchToken direct = new LaunchToken("Plain", "PLN", 1e24, bob);
        vm.stopPrank();

        assertEq(token.balanceOf(bob), 500_000e18, "rest of the supply to bob");
        assertGt(pair.balanceOf(bob), 0, "LP to bob");
        assertEq(reserveOf(pair, address(usd)), 50_000 * USD, "pool seeded");
        assertEq(direct.balanceOf(bob), 1e24, "direct deployment");
        _assertWhole(books);
    }
}
