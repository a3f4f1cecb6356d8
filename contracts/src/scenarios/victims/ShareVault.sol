// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  DELIBERATELY VULNERABLE CONTRACT. DEVNET / SCENARIO USE ONLY. NEVER DEPLOY WITH REAL FUNDS.
//
//  Pattern 3 (Harvest Finance): an ERC-4626 vault of a stable token that keeps part of its
//  assets "invested" in a second token and values that position at the SPOT price of a Uniswap
//  V2 pool. Share price = totalAssets / totalSupply therefore follows the pool within a single
//  transaction: deposit at the normal share price, push the pool (buy the invested token), redeem
//  at the inflated share price (paid from the vault's idle stable balance), sell back. Repeating
//  it drains the idle balance, which belongs to the other depositors.
//  A safe vault values its position with a manipulation-resistant price (TWAP / oracle) and
//  checks it against a second source before accepting deposits and withdrawals.
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IUniswapV2Pair} from "../../devnet/interfaces/IUniswapV2Pair.sol";
import {V2Math} from "../../devnet/libraries/V2Math.sol";
import {GuardianPausable} from "../common/GuardianPausable.sol";

/// @title ShareVault
/// @notice DELIBERATELY VULNERABLE ERC-4626 vault: assets = idle stable + invested token valued at
/// a V2 pool's spot price. Withdrawals are paid from the idle balance only (`maxWithdraw` and
/// `maxRedeem` are capped by it). A STRATEGIST_ROLE account invests idle assets through the pool.
/// Deposits, mints, withdrawals, redemptions and investing stop while paused.
contract ShareVault is ERC4626, GuardianPausable {
    /// @notice Role allowed to move idle assets into the invested token.
    bytes32 public constant STRATEGIST_ROLE = keccak256("STRATEGIST_ROLE");

    /// @notice Token the vault invests in (e.g. a second stablecoin).
    IERC20 public immutable investToken;
    /// @notice Uniswap V2 pool of asset/investToken: its spot price values the investment.
    IUniswapV2Pair public immutable pricePool;

    event Invest(uint256 assets, uint256 bought);

    error PairMismatch(address pair);
    error InsufficientOutput(uint256 out, uint256 minOut);

    /// @param asset_ Stable token deposited and withdrawn.
    /// @param investToken_ Token held as the vault's investment.
    /// @param pricePool_ Uniswap V2 pair of exactly these two tokens.
    /// @param name_ Share token name.
    /// @param symbol_ Share token symbol.
    /// @param admin Receives DEFAULT_ADMIN_ROLE and STRATEGIST_ROLE.
    /// @param pauser Receives PAUSER_ROLE (the Vigil Guardian); address(0) to grant it later.
    constructor(
        IERC20 asset_,
        IERC20 investToken_,
        IUniswapV2Pair pricePool_,
        string memory name_,
        string memory symbol_,
        address admin,
        address pauser
    ) ERC20(name_, symbol_) ERC4626(asset_) GuardianPausable(admin, pauser) {
        if (V2Math.otherToken(pricePool_, address(asset_)) != address(investToken_)) {
            revert PairMismatch(address(pricePool_));
        }
        investToken = investToken_;
        pricePool = pricePool_;
        _grantRole(STRATEGIST_ROLE, admin);
    }

    /// @notice Swaps `assets` of idle asset into the invest token through the price pool.
    /// @param assets Idle assets to invest.
    /// @param minOut Smallest acceptable amount of invest token.
    /// @return bought Invest tokens received.
    function invest(uint256 assets, uint256 minOut)
        external
        onlyRole(STRATEGIST_ROLE)
        whenNotPaused
        returns (uint256 bought)
    {
        bought = V2Math.swapExactIn(pricePool, asset(), assets, address(this));
        if (bought < minOut) revert InsufficientOutput(bought, minOut);
        emit Invest(assets, bought);
    }

    /// @notice Idle + invested value, in asset base units.
    function totalAssets() public view override returns (uint256) {
        return idleAssets() + investedValue();
    }

    /// @notice Asset balance available for withdrawals.
    function idleAssets() public view returns (uint256) {
        return IERC20(asset()).balanceOf(address(this));
    }

    /// @notice Invest-token holdings valued in asset base units.
    /// VULNERABLE: at the pool's current reserves, which a swap in the same transaction moves.
    function investedValue() public view returns (uint256) {
        uint256 held = investToken.balanceOf(address(this));
        if (held == 0) return 0;
        (uint256 reserveAsset, uint256 reserveInvest) = V2Math.reservesFor(pricePool, asset());
        return Math.mulDiv(held, reserveAsset, reserveInvest);
    }

    /// @notice Capped by the idle balance (only idle assets are paid out).
    function maxWithdraw(address owner) public view override returns (uint256) {
        return Math.min(super.maxWithdraw(owner), idleAssets());
    }

    /// @notice Capped by the shares the idle balance can pay for.
    function maxRedeem(address owner) public view override returns (uint256) {
        return Math.min(super.maxRedeem(owner), _convertToShares(idleAssets(), Math.Rounding.Floor));
    }

    function _deposit(address caller, address receiver, uint256 assets, uint256 shares)
        internal
        override
        whenNotPaused
    {
        super._deposit(caller, receiver, assets, shares);
    }

    function _withdraw(address caller, address receiver, address owner, uint256 assets, uint256 shares)
        internal
        override
        whenNotPaused
    {
        super._withdraw(caller, receiver, owner, assets, shares);
    }
}
