// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  DELIBERATELY VULNERABLE CONTRACT. DEVNET / SCENARIO USE ONLY. NEVER DEPLOY WITH REAL FUNDS.
//
//  Pattern 6 (Cream / Hundred / Sonne, "ERC-4626 inflation"): a share vault whose
//  pricePerShare = asset.balanceOf(this) / totalSupply, so a plain transfer (a "donation")
//  raises the price of every share, and whose asset-denominated `withdraw` rounds the shares
//  to burn DOWN. Listed as collateral on VaultShareLender while still (nearly) empty, it lets
//  one transaction deposit 2 wei for 2 shares, donate a large amount (1 share is now worth half
//  of it), borrow against the inflated shares, then withdraw almost the whole donation back
//  while burning only ONE share — the lender is left holding a share worth nothing.
//  A safe vault tracks its assets internally (ignores donations), rounds withdrawals up and
//  mints dead shares / uses a decimals offset at launch.
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {GuardianPausable} from "../common/GuardianPausable.sol";

/// @title DonationVault
/// @notice DELIBERATELY VULNERABLE share vault (see header). Shares are this ERC-20, with the
/// asset's decimals. Deposits, withdrawals and redemptions stop while paused.
contract DonationVault is ERC20, GuardianPausable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice The deposited token.
    IERC20 public immutable asset;
    uint8 private immutable _decimals;

    event Deposit(address indexed caller, address indexed receiver, uint256 assets, uint256 shares);
    event Withdraw(address indexed caller, address indexed receiver, uint256 assets, uint256 shares);

    error ZeroAmount();
    error ZeroShares();

    /// @param asset_ The deposited token.
    /// @param name_ Share token name.
    /// @param symbol_ Share token symbol.
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param pauser Receives PAUSER_ROLE (the Vigil Guardian); address(0) to grant it later.
    constructor(IERC20 asset_, string memory name_, string memory symbol_, address admin, address pauser)
        ERC20(name_, symbol_)
        GuardianPausable(admin, pauser)
    {
        asset = asset_;
        _decimals = IERC20Metadata(address(asset_)).decimals();
    }

    /// @notice Same decimals as the asset.
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @notice Deposits `assets` (pulled from the caller) and mints shares to `receiver`.
    function deposit(uint256 assets, address receiver) external whenNotPaused nonReentrant returns (uint256 shares) {
        if (assets == 0) revert ZeroAmount();
        shares = previewDeposit(assets);
        if (shares == 0) revert ZeroShares();
        asset.safeTransferFrom(msg.sender, address(this), assets);
        _mint(receiver, shares);
        emit Deposit(msg.sender, receiver, assets, shares);
    }

    /// @notice Sends exactly `assets` to `receiver`, burning the caller's shares for them.
    function withdraw(uint256 assets, address receiver) external whenNotPaused nonReentrant returns (uint256 shares) {
        if (assets == 0) revert ZeroAmount();
        shares = previewWithdraw(assets);
        if (shares == 0) revert ZeroShares();
        _burn(msg.sender, shares);
        asset.safeTransfer(receiver, assets);
        emit Withdraw(msg.sender, receiver, assets, shares);
    }

    /// @notice Burns `shares` of the caller and sends their assets to `receiver`.
    function redeem(uint256 shares, address receiver) external whenNotPaused nonReentrant returns (uint256 assets) {
        if (shares == 0) revert ZeroAmount();
        assets = convertToAssets(shares);
        _burn(msg.sender, shares);
        asset.safeTransfer(receiver, assets);
        emit Withdraw(msg.sender, receiver, assets, shares);
    }

    /// @notice Assets backing the shares.
    /// VULNERABLE: the raw balance, so direct transfers (donations) count.
    function totalAssets() public view returns (uint256) {
        return asset.balanceOf(address(this));
    }

    /// @notice Asset base units per 1e18 share base units (1e18 while empty).
    function pricePerShare() public view returns (uint256) {
        uint256 supply = totalSupply();
        return supply == 0 ? 1e18 : Math.mulDiv(totalAssets(), 1e18, supply);
    }

    /// @notice Assets `shares` are worth (rounded down).
    function convertToAssets(uint256 shares) public view returns (uint256) {
        uint256 supply = totalSupply();
        return supply == 0 ? shares : Math.mulDiv(shares, totalAssets(), supply);
    }

    /// @notice Shares minted for `assets` (rounded down; 1:1 while empty).
    function previewDeposit(uint256 assets) public view returns (uint256) {
        uint256 supply = totalSupply();
        return supply == 0 ? assets : Math.mulDiv(assets, supply, totalAssets());
    }

    /// @notice Shares burned to withdraw `assets`.
    /// VULNERABLE: rounds DOWN (in the withdrawer's favour); with a donation-inflated share price
    /// almost two shares' worth of assets leave for one burned share.
    function previewWithdraw(uint256 assets) public view returns (uint256) {
        uint256 supply = totalSupply();
        return supply == 0 ? 0 : Math.mulDiv(assets, supply, totalAssets());
    }
}
