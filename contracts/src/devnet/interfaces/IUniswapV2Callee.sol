// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IUniswapV2Callee
/// @notice Flash-swap callback of Uniswap V2: `pair.swap` with non-empty `data` sends the output
/// first, calls this on `to`, then checks the constant-product invariant (with the 0.3% fee).
interface IUniswapV2Callee {
    /// @param sender The account that called `pair.swap`.
    /// @param amount0 Amount of token0 sent out by the pair.
    /// @param amount1 Amount of token1 sent out by the pair.
    /// @param data The `data` passed to `pair.swap`.
    function uniswapV2Call(address sender, uint256 amount0, uint256 amount1, bytes calldata data) external;
}
