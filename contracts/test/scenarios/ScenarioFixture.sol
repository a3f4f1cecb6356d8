// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {DevnetFixture} from "../devnet/DevnetFixture.sol";
import {DevToken} from "../../src/devnet/DevToken.sol";
import {IUniswapV2Pair} from "../../src/devnet/interfaces/IUniswapV2Pair.sol";
import {AaveStyleLendingPool} from "../../src/scenarios/lenders/AaveStyleLendingPool.sol";
import {BalancerStyleVault} from "../../src/scenarios/lenders/BalancerStyleVault.sol";
import {FlashFunded} from "../../src/scenarios/common/FlashFunded.sol";
import {ShareVault} from "../../src/scenarios/victims/ShareVault.sol";
import {LpCollateralLender} from "../../src/scenarios/victims/LpCollateralLender.sol";
import {RewardMinter, IMintableERC20} from "../../src/scenarios/victims/RewardMinter.sol";
import {DonationVault} from "../../src/scenarios/victims/DonationVault.sol";
import {VaultShareLender} from "../../src/scenarios/victims/VaultShareLender.sol";
import {SimpleCollateralLender} from "../../src/scenarios/victims/SimpleCollateralLender.sol";
import {CurveLikePool} from "../../src/scenarios/victims/CurveLikePool.sol";
import {VirtualPriceLender} from "../../src/scenarios/victims/VirtualPriceLender.sol";
import {DonationLiquidationMarket} from "../../src/scenarios/victims/DonationLiquidationMarket.sol";

/// @notice The scenario world, on top of the devnet one (real Uniswap V2 factories from the npm
/// artifact; USD has 6 decimals, every other token 18).
///
/// Flash-loan sources, each holding 100,000,000 USD:
///   - ERC-3156 FlashLender (devnet's, 5 bps), topped up;
///   - Uniswap V2 flash swap from the uni USD/WETH pair, grown to 100M USD / 50,000 WETH (0.3%);
///   - AaveStyleLendingPool (9 bps), funded by a supplier's deposit into its aUSD reserve;
///   - BalancerStyleVault (1 bps), funded by transfer.
///
/// Pools (uni factory unless noted):
///   - USD/COLL   1M / 1,000      (devnet `pricePair`; LpCollateralLender's collateral pair)
///   - sushi USD/COLL 500k / 500  (devnet `arbPair`; second venue for arbitrage)
///   - USD/USDX   5M / 5M, re-pegged to 6M / 6M after ShareVault invests (ShareVault's price pool)
///   - USD/STK    20M / 10,000    (RewardMinter's price pair, 2,000 USD/STK)
///   - USD/RWD    500k / 500k     (protocol-owned reward liquidity, where rewards are dumped)
///   - CurveLikePool USD/USDX 1M / 1M
///
/// Victims (PAUSER_ROLE held by `guardian`):
///   - ShareVault: alice deposited 2M USD, 1M invested into ~833k USDX -> 1M idle USD.
///   - LpCollateralLender: 1M USD liquidity, LTV 75%, threshold 85%, bonus 5%.
///   - RewardMinter: alice stakes 100 STK; 1 RWD minted per USD of profit.
///   - DonationVault (empty, freshly listed) + VaultShareLender: 1M USD liquidity, LTV 75%.
///   - VirtualPriceLender on the CurveLikePool LP: 1M USD liquidity, LTV 75%.
///   - DonationLiquidationMarket: alice deposited 1M USD; collateral factor 95%, bonus 10%.
abstract contract ScenarioFixture is DevnetFixture {
    uint256 internal constant USDX = 1e6;
    uint256 internal constant STK = 1e18;
    uint256 internal constant RWD = 1e18;

    uint256 internal constant SOURCE_USD = 100_000_000 * USD;
    uint256 internal constant VICTIM_USD = 1_000_000 * USD;

    DevToken internal usdx;
    DevToken internal stk;
    DevToken internal rwd;

    IUniswapV2Pair internal vaultPool; // USD/USDX
    IUniswapV2Pair internal stakePair; // USD/STK
    IUniswapV2Pair internal rewardPool; // USD/RWD

    AaveStyleLendingPool internal aavePool;
    BalancerStyleVault internal balVault;

    ShareVault internal shareVault;
    LpCollateralLender internal lpLender;
    RewardMinter internal minter;
    DonationVault internal donationVault;
    VaultShareLender internal shareLender;
    CurveLikePool internal curvePool;
    VirtualPriceLender internal vpLender;
    DonationLiquidationMarket internal eMarket;

    address internal supplier = address(0x5A9);
    address internal bob = address(0xB0B);
    address internal keeper = address(0x4EE9);

    function setUp() public virtual override {
        super.setUp();
        usdx = new DevToken("Dev USD X", "USDX", 6, admin);
        stk = new DevToken("Dev Stake", "STK", 18, admin);
        rwd = new DevToken("Dev Reward", "RWD", 18, admin);
        _sources();
        _pools();
        _victims();
    }

    function _sources() private {
        addLiquidity(uniFactory, usd, SOURCE_USD - FUNDING_PAIR_USD, weth, 50_000 * WETH - FUNDING_PAIR_WETH);
        usd.mint(address(lender), SOURCE_USD - LENDER_USD);

        aavePool = new AaveStyleLendingPool(admin);
        aavePool.initReserve(address(usd));
        usd.mint(supplier, SOURCE_USD);
        vm.startPrank(supplier);
        usd.approve(address(aavePool), SOURCE_USD);
        aavePool.deposit(address(usd), SOURCE_USD, supplier, 0);
        vm.stopPrank();

        balVault = new BalancerStyleVault(1);
        usd.mint(address(balVault), SOURCE_USD);
        vm.label(address(aavePool), "aavePool");
        vm.label(address(balVault), "balVault");
    }

    function _pools() private {
        vaultPool = addLiquidity(uniFactory, usd, 5_000_000 * USD, usdx, 5_000_000 * USDX);
        stakePair = addLiquidity(uniFactory, usd, 20_000_000 * USD, stk, 10_000 * STK);
        rewardPool = addLiquidity(uniFactory, usd, 500_000 * USD, rwd, 500_000 * RWD);
        vm.label(address(vaultPool), "vaultPool");
        vm.label(address(stakePair), "stakePair");
        vm.label(address(rewardPool), "rewardPool");
    }

    function _victims() private {
        // ShareVault: alice deposits 2M, half is invested, then the pool is re-pegged.
        shareVault = new ShareVault(usd, usdx, vaultPool, "Share Vault USD", "svUSD", admin, guardian);
        usd.mint(alice, 2_000_000 * USD);
        vm.startPrank(alice);
        usd.approve(address(shareVault), type(uint256).max);
        shareVault.deposit(2_000_000 * USD, alice);
        vm.stopPrank();
        shareVault.invest(1_000_000 * USD, 0);
        usdx.mint(address(vaultPool), reserveOf(vaultPool, address(usd)) - reserveOf(vaultPool, address(usdx)));
        vaultPool.sync();

        lpLender = new LpCollateralLender(pricePair, usd, 7_500, 8_500, 500, admin, guardian);
        _supply(address(lpLender));

        minter = new RewardMinter(stk, IMintableERC20(address(rwd)), stakePair, address(usd), 1e12, admin, guardian);
        rwd.transferOwnership(address(minter));
        stk.mint(alice, 100 * STK);
        vm.startPrank(alice);
        stk.approve(address(minter), type(uint256).max);
        minter.stake(100 * STK);
        vm.stopPrank();

        donationVault = new DonationVault(usd, "Donation Vault USD", "dvUSD", admin, guardian);
        shareLender = new VaultShareLender(donationVault, 7_500, admin, guardian);
        _supply(address(shareLender));

        curvePool = new CurveLikePool(usd, usdx, "Curve-like USD/USDX", "clUSD", admin, guardian);
        usd.mint(admin, VICTIM_USD);
        usdx.mint(admin, VICTIM_USD);
        usd.approve(address(curvePool), VICTIM_USD);
        usdx.approve(address(curvePool), VICTIM_USD);
        curvePool.add_liquidity([VICTIM_USD, VICTIM_USD], 0);
        vpLender = new VirtualPriceLender(curvePool, usd, 7_500, admin, guardian);
        _supply(address(vpLender));

        eMarket = new DonationLiquidationMarket(usd, 9_500, 1_000, admin, guardian);
        usd.mint(alice, VICTIM_USD);
        vm.startPrank(alice);
        usd.approve(address(eMarket), VICTIM_USD);
        eMarket.deposit(VICTIM_USD);
        vm.stopPrank();

        vm.label(address(shareVault), "shareVault");
        vm.label(address(lpLender), "lpLender");
        vm.label(address(minter), "minter");
        vm.label(address(donationVault), "donationVault");
        vm.label(address(shareLender), "shareLender");
        vm.label(address(curvePool), "curvePool");
        vm.label(address(vpLender), "vpLender");
        vm.label(address(eMarket), "eMarket");
    }

    /// @dev Supplies VICTIM_USD of lending liquidity to a SimpleCollateralLender.
    function _supply(address lender_) private {
        usd.mint(admin, VICTIM_USD);
        usd.approve(lender_, VICTIM_USD);
        SimpleCollateralLender(lender_).supply(VICTIM_USD);
    }

    // ------------------------------------------------------------------ funding helpers

    /// @dev The provider of each source (address(0) for own capital).
    function provider(FlashFunded.Source s) internal view returns (address) {
        if (s == FlashFunded.Source.ERC3156) return address(lender);
        if (s == FlashFunded.Source.UniswapV2FlashSwap) return address(fundingPair);
        if (s == FlashFunded.Source.AaveStyle) return address(aavePool);
        if (s == FlashFunded.Source.BalancerStyle) return address(balVault);
        return address(0);
    }

    /// @dev USD funding of `amount` from source `s`. For own capital, the attacker EOA first
    /// transfers `amount` (minted to it) into `worker`, as a real attacker pre-funds its contract.
    function usdFunding(FlashFunded.Source s, uint256 amount, address worker)
        internal
        returns (FlashFunded.Funding memory f)
    {
        if (s == FlashFunded.Source.OwnCapital) {
            usd.mint(attackerEoa, amount);
            vm.prank(attackerEoa);
            require(usd.transfer(worker, amount), "pre-fund");
        }
        f = FlashFunded.Funding({source: s, provider: provider(s), token: IERC20(address(usd)), amount: amount});
    }

    /// @dev Attacker EOA's USD net of the own capital it put in.
    function netProfit(FlashFunded.Source s, uint256 capital) internal view returns (uint256) {
        uint256 bal = usd.balanceOf(attackerEoa);
        return s == FlashFunded.Source.OwnCapital ? bal - capital : bal;
    }

    function sourceCount() internal pure returns (uint8) {
        return uint8(type(FlashFunded.Source).max) + 1;
    }
}
