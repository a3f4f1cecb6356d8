// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IUniswapV2Factory
/// @notice 0.8 declaration of the real Uniswap V2 factory (deployed on the devnet from the
/// v2-core npm package's build artifact, compiled with solc 0.5.16).
interface IUniswapV2Factory {
    event PairCreated(address indexed token0, address indexed token1, address pair, uint256);

    function feeTo() external view returns (address);
    function feeToSetter() external view returns (address);
    function getPair(address tokenA, address tokenB) external view returns (address pair);
    function allPairs(uint256 index) external view returns (address pair);
    function allPairsLength() external view returns (uint256);

    function createPair(address tokenA, address tokenB) external returns (address pair);
    function setFeeTo(address feeTo) external;
    function setFeeToSetter(address feeToSetter) external;
}
