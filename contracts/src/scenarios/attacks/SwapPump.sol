// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// ATTACK HELPER FOR VIGIL'S SCENARIO LIBRARY ONLY (devnet benchmark; see the attack contracts).

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IUniswapV2Pair} from "../../devnet/interfaces/IUniswapV2Pair.sol";
import {V2Math} from "../../devnet/libraries/V2Math.sol";
import {CurveLikePool} from "../victims/CurveLikePool.sol";

/// @title SwapPump
/// @notice Throw-away helper an attack contract deploys inside its transaction so that the
/// price-moving swaps come from a second, fresh address: the controller sends it tokens, it swaps
/// its WHOLE balance of the input token and either keeps the output (holding the position while
/// the controller borrows) or sends it on.
contract SwapPump {
    using SafeERC20 for IERC20;

    /// @notice The contract that deployed this pump; the only caller.
    address public immutable controller;

    error NotController();

    constructor() {
        controller = msg.sender;
    }

    modifier onlyController() {
        if (msg.sender != controller) revert NotController();
        _;
    }

    /// @notice Swaps all of this pump's `tokenIn` through a Uniswap V2 pair; output to `to`.
    function swapV2(IUniswapV2Pair pair, address tokenIn, address to) external onlyController returns (uint256 out) {
        out = V2Math.swapExactIn(pair, tokenIn, IERC20(tokenIn).balanceOf(address(this)), to);
    }

    /// @notice Swaps all of this pump's coin `i` for coin `j` in a CurveLikePool; output to `to`.
    function swapCurve(CurveLikePool pool, int128 i, int128 j, address to) external onlyController returns (uint256 out) {
        IERC20 tokenIn = IERC20(pool.coins(i == 0 ? 0 : 1));
        uint256 amount = tokenIn.balanceOf(address(this));
        tokenIn.forceApprove(address(pool), amount);
        out = pool.exchange(i, j, amount, 0);
        if (to != address(this)) IERC20(pool.coins(j == 0 ? 0 : 1)).safeTransfer(to, out);
    }
}
