// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IUniswapV2Pair} from "./interfaces/IUniswapV2Pair.sol";
import {V2Math} from "./libraries/V2Math.sol";

/// @title SwapRouter
/// @notice A minimal router for drill traffic: one exact-input swap through one Uniswap V2 pair in
/// one transaction (v2-core ships no router). Benign traders use it; it holds nothing between calls.
contract SwapRouter {
    using SafeERC20 for IERC20;

    error InsufficientOutput(uint256 out, uint256 minOut);

    /// @notice Swaps exactly `amountIn` of `tokenIn` (pulled from the caller) through `pair`.
    /// @param pair The pair to trade on.
    /// @param tokenIn Token paid in; the caller must have approved this router.
    /// @param amountIn Amount paid in.
    /// @param minOut Smallest acceptable output (slippage bound).
    /// @param to Receiver of the output token.
    /// @return out Amount of the other token received.
    function swapExactIn(IUniswapV2Pair pair, address tokenIn, uint256 amountIn, uint256 minOut, address to)
        external
        returns (uint256 out)
    {
        IERC20(tokenIn).safeTransferFrom(msg.sender, address(this), amountIn);
        out = V2Math.swapExactIn(pair, tokenIn, amountIn, to);
        if (out < minOut) revert InsufficientOutput(out, minOut);
    }
}
