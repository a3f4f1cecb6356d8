// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "../base/Test.sol";
import {DevToken} from "../../src/devnet/DevToken.sol";
import {FlashLender} from "../../src/devnet/FlashLender.sol";
import {VulnerableSpotPriceLendingMarket} from "../../src/devnet/VulnerableSpotPriceLendingMarket.sol";
import {IUniswapV2Factory} from "../../src/devnet/interfaces/IUniswapV2Factory.sol";
import {IUniswapV2Pair} from "../../src/devnet/interfaces/IUniswapV2Pair.sol";

/// @notice Shared devnet world for the drill tests, built on the REAL Uniswap V2 factory/pair
/// bytecode from the v2-core npm artifact (solc 0.5.16).
///
/// Liquidity (USD has 6 decimals, COLL and WETH 18):
///   - factory "uni":   USD/COLL  1,000,000 USD / 1,000 COLL   (1,000 USD/COLL; the market's price source)
///                      USD/WETH 20,000,000 USD / 10,000 WETH  (2,000 USD/WETH; flash-swap funding source)
///   - factory "sushi": USD/COLL    500,000 USD /   500 COLL   (1,000 USD/COLL; second venue for arbitrage)
///   - FlashLender: 10,000,000 USD, 5 bps fee
///   - Market: 1,000,000 USD liquidity, 75% LTV, PAUSER_ROLE held by `guardian` (stand-in for the
///     Vigil Guardian contract)
///   - Attack size: 4,000,000 USD flash loan (pumps COLL to ~24,900 USD; profit ~936k USD)
abstract contract DevnetFixture is Test {
    uint256 internal constant USD = 1e6;
    uint256 internal constant COLL = 1e18;
    uint256 internal constant WETH = 1e18;

    uint256 internal constant PRICE_PAIR_USD = 1_000_000 * USD;
    uint256 internal constant PRICE_PAIR_COLL = 1_000 * COLL;
    uint256 internal constant FUNDING_PAIR_USD = 20_000_000 * USD;
    uint256 internal constant FUNDING_PAIR_WETH = 10_000 * WETH;
    uint256 internal constant ARB_PAIR_USD = 500_000 * USD;
    uint256 internal constant ARB_PAIR_COLL = 500 * COLL;
    uint256 internal constant LENDER_USD = 10_000_000 * USD;
    uint256 internal constant LENDER_FEE_BPS = 5;
    uint256 internal constant MARKET_USD = 1_000_000 * USD;
    uint256 internal constant LTV_BPS = 7_500;
    uint256 internal constant ATTACK_AMOUNT = 4_000_000 * USD;

    string internal constant FACTORY_ARTIFACT = "node_modules/@uniswap/v2-core/build/UniswapV2Factory.json";

    address internal admin = address(this);
    address internal guardian = address(0x6A2D);
    address internal alice = address(0xA11CE);
    address internal attackerEoa = address(0xBAD);
    address internal arber = address(0xA4B);
    address internal whale = address(0x3A1E);

    DevToken internal usd;
    DevToken internal coll;
    DevToken internal weth;
    IUniswapV2Factory internal uniFactory;
    IUniswapV2Factory internal sushiFactory;
    IUniswapV2Pair internal pricePair; // uni USD/COLL
    IUniswapV2Pair internal fundingPair; // uni USD/WETH
    IUniswapV2Pair internal arbPair; // sushi USD/COLL
    FlashLender internal lender;
    VulnerableSpotPriceLendingMarket internal market;

    function setUp() public virtual {
        usd = new DevToken("Dev USD", "USD", 6, admin);
        coll = new DevToken("Dev Collateral", "COLL", 18, admin);
        weth = new DevToken("Dev Wrapped Ether", "WETH", 18, admin);
        vm.label(address(usd), "USD");
        vm.label(address(coll), "COLL");
        vm.label(address(weth), "WETH");

        uniFactory = deployV2Factory(admin);
        sushiFactory = deployV2Factory(admin);
        pricePair = addLiquidity(uniFactory, usd, PRICE_PAIR_USD, coll, PRICE_PAIR_COLL);
        fundingPair = addLiquidity(uniFactory, usd, FUNDING_PAIR_USD, weth, FUNDING_PAIR_WETH);
        arbPair = addLiquidity(sushiFactory, usd, ARB_PAIR_USD, coll, ARB_PAIR_COLL);
        vm.label(address(pricePair), "pricePair");
        vm.label(address(fundingPair), "fundingPair");
        vm.label(address(arbPair), "arbPair");

        lender = new FlashLender(LENDER_FEE_BPS, admin);
        usd.mint(address(lender), LENDER_USD);

        market = new VulnerableSpotPriceLendingMarket(coll, usd, pricePair, LTV_BPS, admin, guardian);
        usd.mint(admin, MARKET_USD);
        usd.approve(address(market), MARKET_USD);
        market.supply(MARKET_USD);
        vm.label(address(market), "market");
    }

    /// @dev Deploys the real UniswapV2Factory from its npm build artifact.
    function deployV2Factory(address feeToSetter) internal returns (IUniswapV2Factory factory) {
        string memory json = vm.readFile(FACTORY_ARTIFACT);
        bytes memory initCode = abi.encodePacked(vm.parseJsonBytes(json, ".bytecode"), abi.encode(feeToSetter));
        address deployed;
        assembly {
            deployed := create(0, add(initCode, 0x20), mload(initCode))
        }
        require(deployed != address(0) && deployed.code.length != 0, "UniswapV2Factory deployment failed");
        factory = IUniswapV2Factory(deployed);
    }

    /// @dev Creates the pair if needed, mints both tokens into it and mints LP to this contract.
    function addLiquidity(IUniswapV2Factory factory, DevToken a, uint256 amountA, DevToken b, uint256 amountB)
        internal
        returns (IUniswapV2Pair pair)
    {
        address p = factory.getPair(address(a), address(b));
        if (p == address(0)) p = factory.createPair(address(a), address(b));
        pair = IUniswapV2Pair(p);
        a.mint(p, amountA);
        b.mint(p, amountB);
        pair.mint(address(this));
    }

    /// @dev Reserve of `token` in `pair`.
    function reserveOf(IUniswapV2Pair pair, address token) internal view returns (uint256) {
        (uint112 r0, uint112 r1,) = pair.getReserves();
        return token == pair.token0() ? r0 : r1;
    }

    /// @dev Swaps exactly `amountIn` of `tokenIn` (minted to `trader` first) through `pair`,
    /// paying out to `trader`, the router-less way.
    function swapAs(address trader, IUniswapV2Pair pair, DevToken tokenIn, uint256 amountIn)
        internal
        returns (uint256 amountOut)
    {
        tokenIn.mint(trader, amountIn);
        uint256 reserveIn = reserveOf(pair, address(tokenIn));
        address tokenOut = address(tokenIn) == pair.token0() ? pair.token1() : pair.token0();
        uint256 reserveOut = reserveOf(pair, tokenOut);
        amountOut = (amountIn * 997 * reserveOut) / (reserveIn * 1000 + amountIn * 997);
        vm.prank(trader);
        tokenIn.transfer(address(pair), amountIn);
        (uint256 out0, uint256 out1) =
            address(tokenIn) == pair.token0() ? (uint256(0), amountOut) : (amountOut, uint256(0));
        vm.prank(trader);
        pair.swap(out0, out1, trader, "");
    }
}
