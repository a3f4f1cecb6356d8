// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  DELIBERATELY VULNERABLE CONTRACT. DEVNET / SCENARIO USE ONLY. NEVER DEPLOY WITH REAL FUNDS.
//
//  Pattern 6, the lending side (Cream / Hundred / Sonne): DonationVault shares are collateral,
//  valued at the vault's `pricePerShare()`, which a donation inflates in the same transaction.
//  `withdrawCollateralAssets` unwraps collateral straight to the asset and trusts the vault's
//  rounded-down share count, checking health BEFORE the vault call at the inflated price (as
//  Compound's redeemAllowed does). A safe lender prices the shares with a rate that ignores
//  donations / is capped per block, and never lists an empty vault.
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {DonationVault} from "./DonationVault.sol";
import {SimpleCollateralLender} from "./SimpleCollateralLender.sol";

/// @title VaultShareLender
/// @notice DELIBERATELY VULNERABLE lender of a DonationVault's asset against its shares (see header).
contract VaultShareLender is SimpleCollateralLender {
    /// @notice The vault whose shares are the collateral.
    DonationVault public immutable vault;

    event WithdrawCollateralAssets(address indexed user, uint256 assets, uint256 shares);

    /// @param vault_ Vault whose shares are accepted; its asset is the token lent.
    /// @param ltvBps_ Borrow limit in bps of collateral value (e.g. 7,500).
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param pauser Receives PAUSER_ROLE (the Vigil Guardian); address(0) to grant it later.
    constructor(DonationVault vault_, uint256 ltvBps_, address admin, address pauser)
        SimpleCollateralLender(IERC20(address(vault_)), vault_.asset(), ltvBps_, admin, pauser)
    {
        vault = vault_;
    }

    /// @notice Withdraws `assets` of the vault's asset out of the caller's collateral shares,
    /// straight to the caller; the position must stay healthy.
    /// @return shares Collateral shares burned in the vault.
    function withdrawCollateralAssets(uint256 assets) external whenNotPaused nonReentrant returns (uint256 shares) {
        // VULNERABLE: trusts the vault's rounded-down share count and checks health at the
        // current (donation-inflated) price before the vault call.
        shares = vault.previewWithdraw(assets);
        _releaseCollateral(msg.sender, shares);
        vault.withdraw(assets, msg.sender);
        emit WithdrawCollateralAssets(msg.sender, assets, shares);
    }

    /// @dev VULNERABLE: shares valued at pricePerShare = vault balance / supply (donations count).
    function _collateralValue(uint256 shares) internal view override returns (uint256) {
        return Math.mulDiv(shares, vault.pricePerShare(), 1e18);
    }
}
